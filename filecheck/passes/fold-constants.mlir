// RUN: tiers-opt %s -p fold-constants | filecheck %s
// RUN: tiers-opt %s -p fold-constants,dce | filecheck %s --check-prefix=DCE
// RUN: tiers-opt %s -p "fold-constants{max-elements=2}" | filecheck %s --check-prefix=SMALL
// RUN: tiers-opt %s -p fold-constants --pass-statistics 2>&1 >/dev/null | filecheck %s --check-prefix=STATS

// `fold-constants` evaluates ops whose operands are all constants with the reference target's
// numpy rules. One sweep folds whole chains (each folded result is a constant for its users);
// the constants it no longer needs are left for `dce`.

// CHECK-LABEL: func.func @chain
// DCE-LABEL:   func.func @chain
func.func @chain() -> (tensor<4xf32>, tensor<f32>) {
  %0 = lax.constant dense<2.0> : tensor<f32>
  %1 = lax.broadcast_in_dim %0 dims [] : tensor<f32> -> tensor<4xf32>
  %2 = lax.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %3 = lax.mul %1, %2 : tensor<4xf32>
  %4 = lax.exp %3 : tensor<4xf32>
  %5 = lax.reduce_sum %4 axes [0] : tensor<4xf32> -> tensor<f32>
  func.return %3, %5 : tensor<4xf32>, tensor<f32>
}
// CHECK-NEXT:    %0 = lax.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT:    %1 = lax.constant dense<2.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    %2 = lax.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>
// CHECK-NEXT:    %3 = lax.constant dense<[2.000000e+00, 4.000000e+00, 6.000000e+00, 8.000000e+00]> : tensor<4xf32>
// CHECK-NEXT:    %4 = lax.constant dense<[7.38905621, 54.5981483, 403.428802, 2980.95801]> : tensor<4xf32>
// CHECK-NEXT:    %5 = lax.constant dense<3446.37402> : tensor<f32>
// CHECK-NEXT:    func.return %3, %5 : tensor<4xf32>, tensor<f32>
// DCE-NEXT:      %0 = lax.constant dense<[2.000000e+00, 4.000000e+00, 6.000000e+00, 8.000000e+00]> : tensor<4xf32>
// DCE-NEXT:      %1 = lax.constant dense<3446.37402> : tensor<f32>
// DCE-NEXT:      func.return %0, %1 : tensor<4xf32>, tensor<f32>

// Only the constant part of an expression folds.
// CHECK-LABEL: func.func @partial
func.func @partial(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.constant dense<2.0> : tensor<f32>
  %1 = lax.neg %0 : tensor<f32>
  %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<4xf32>
  %3 = lax.mul %x, %2 : tensor<4xf32>
  func.return %3 : tensor<4xf32>
}
// CHECK:         %[[NEG:.*]] = lax.constant dense<-2.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    %3 = lax.mul %x, %[[NEG]] : tensor<4xf32>

// Integers fold with XLA's semantics (x / 0 = -1, truncating division), and so do comparisons.
// CHECK-LABEL: func.func @integers
func.func @integers() -> (tensor<3xi32>, tensor<3xi1>) {
  %0 = lax.constant dense<[7, -7, 5]> : tensor<3xi32>
  %1 = lax.constant dense<[2, 2, 0]> : tensor<3xi32>
  %2 = lax.div %0, %1 : tensor<3xi32>
  %3 = lax.lt %0, %1 : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi1>
  func.return %2, %3 : tensor<3xi32>, tensor<3xi1>
}
// CHECK:         %2 = lax.constant dense<[3, -3, -1]> : tensor<3xi32>
// CHECK-NEXT:    %3 = lax.constant dense<[false, true, false]> : tensor<3xi1>
// CHECK-NEXT:    func.return %2, %3

// `max-elements` (default 1024) bounds the constants it makes: a broadcast of a scalar into
// 64x64 = 4096 elements stays a cheap op. With max-elements=2 the 4-element results stay too.
// CHECK-LABEL: func.func @too_big
// SMALL-LABEL: func.func @too_big
func.func @too_big() -> (tensor<64x64xf32>, tensor<4xf32>, tensor<2xf32>) {
  %0 = lax.constant dense<2.0> : tensor<f32>
  %1 = lax.broadcast_in_dim %0 dims [] : tensor<f32> -> tensor<64x64xf32>
  %2 = lax.broadcast_in_dim %0 dims [] : tensor<f32> -> tensor<4xf32>
  %3 = lax.broadcast_in_dim %0 dims [] : tensor<f32> -> tensor<2xf32>
  func.return %1, %2, %3 : tensor<64x64xf32>, tensor<4xf32>, tensor<2xf32>
}
// CHECK-NEXT:    %0 = lax.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT:    %1 = lax.broadcast_in_dim %0 dims [] : tensor<f32> -> tensor<64x64xf32>
// CHECK-NEXT:    %2 = lax.constant dense<2.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    %3 = lax.constant dense<2.000000e+00> : tensor<2xf32>
// SMALL-NEXT:    %0 = lax.constant dense<2.000000e+00> : tensor<f32>
// SMALL-NEXT:    %1 = lax.broadcast_in_dim %0 dims [] : tensor<f32> -> tensor<64x64xf32>
// SMALL-NEXT:    %2 = lax.broadcast_in_dim %0 dims [] : tensor<f32> -> tensor<4xf32>
// SMALL-NEXT:    %3 = lax.constant dense<2.000000e+00> : tensor<2xf32>

// A bf16 result is never folded: xDSL 0.74 has no bf16 dense literal.
// CHECK-LABEL: func.func @bf16
func.func @bf16() -> tensor<4xbf16> {
  %0 = lax.constant dense<2.0> : tensor<4xf32>
  %1 = lax.convert_element_type %0 : tensor<4xf32> -> tensor<4xbf16>
  func.return %1 : tensor<4xbf16>
}
// CHECK-NEXT:    %0 = lax.constant dense<2.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    %1 = lax.convert_element_type %0 : tensor<4xf32> -> tensor<4xbf16>
// CHECK-NEXT:    func.return %1 : tensor<4xbf16>

// Ops with a non-constant operand, and ops without `Pure` (lax.generic), are left alone.
// CHECK-LABEL: func.func @not_constant
func.func @not_constant(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = lax.constant dense<2.0> : tensor<4xf32>
  %1 = lax.add %x, %0 : tensor<4xf32>
  %2 = lax.generic "erf_inv" %0 params {} : tensor<4xf32>
  func.return %1, %2 : tensor<4xf32>, tensor<4xf32>
}
// CHECK-NEXT:    %0 = lax.constant dense<2.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    %1 = lax.add %x, %0 : tensor<4xf32>
// CHECK-NEXT:    %2 = lax.generic "erf_inv" %0 params {} : tensor<4xf32>

// STATS:      'fold-constants'
// STATS-NEXT:   (ops folded) 10

// A sharding constraint places its value: it stays on a constant operand (a constant in its
// stead would lose the placement the program asked for).
// CHECK-LABEL: func.func @placed
func.func @placed() -> tensor<4xf32> {
  %0 = lax.constant dense<0.0> : tensor<4xf32>
  %1 = lax.sharding_constraint spec [["x"]] %0 mesh {axes = ["x"], shape = array<i64: 1>} : tensor<4xf32>
  func.return %1 : tensor<4xf32>
}
// CHECK:      %[[C:.*]] = lax.constant dense<0.000000e+00> : tensor<4xf32>
// CHECK-NEXT: %{{.*}} = lax.sharding_constraint spec {{\[}}["x"]] %[[C]]
