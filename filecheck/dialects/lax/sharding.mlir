// RUN: tiers-opt %s | tiers-opt | filecheck %s
// RUN: tiers-opt %s -p O2 | filecheck %s --check-prefix=OPT

// Placement and sharding (dialects/sharding.py): a mesh and specs on func.func, survive
// printing, parsing and the pipeline.

func.func @main(%x: tensor<8x4xf32> {tiers.sharding = [["x"], []]}, %w: tensor<4x4xf32>) -> (tensor<8x4xf32> {tiers.sharding = [["x", "y"]]}) attributes {tiers.mesh = {axes = ["x", "y"], shape = array<i64: 2, 2>, devices = array<i64: 0, 1, 2, 3>}} {
  %0 = lax.tanh %x : tensor<8x4xf32>
  %1 = lax.sharding_constraint spec [["x"], ["y"]] %0 mesh {axes = ["x", "y"], shape = array<i64: 2, 2>} : tensor<8x4xf32>
  func.return %1 : tensor<8x4xf32>
}
// CHECK:      func.func @main(%{{.*}}: tensor<8x4xf32> {tiers.sharding = {{\[\["x"\], \[\]\]}}}, %{{.*}}: tensor<4x4xf32>) -> (tensor<8x4xf32> {tiers.sharding = {{\[\["x", "y"\]\]}}}) attributes {tiers.mesh = {axes = ["x", "y"], shape = array<i64: 2, 2>, devices = array<i64: 0, 1, 2, 3>}} {
// CHECK-NEXT:   %{{.*}} = lax.tanh %{{.*}} : tensor<8x4xf32>
// CHECK-NEXT:   %{{.*}} = lax.sharding_constraint spec {{\[\["x"\], \["y"\]\]}} %{{.*}} mesh {axes = ["x", "y"], shape = array<i64: 2, 2>} : tensor<8x4xf32>

// OPT:      tiers.sharding = {{\[\["x"\], \[\]\]}}
// OPT:      attributes {tiers.mesh =
// OPT:      lax.sharding_constraint spec

func.func @pinned(%x: tensor<2xf32>) -> tensor<2xf32> attributes {tiers.device = "cpu:0"} {
  func.return %x : tensor<2xf32>
}
// CHECK: func.func @pinned(%{{.*}}: tensor<2xf32>) -> tensor<2xf32> attributes {tiers.device = "cpu:0"} {
