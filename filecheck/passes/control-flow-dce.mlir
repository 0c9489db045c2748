// RUN: tiers-opt %s -p dce | filecheck %s

// xDSL's `dce` inside regions: dead pure ops in branches and bodies go; a loop or cond whose
// results are unused goes when everything inside is side-effect free (MLIR's
// `RecursiveMemoryEffect` rule, which treats a pure loop as terminating); ops without `Pure`
// keep theirs. Dead carried values are `canonicalize`'s job (control-flow-canonicalize.mlir).

// CHECK-LABEL: func.func @dead_inside
func.func @dead_inside(%i: tensor<i32>, %x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %a = lax.cond %i : tensor<i32> -> tensor<4xf32> {
    %dead = lax.exp %x : tensor<4xf32>
    %s = lax.sin %x : tensor<4xf32>
    lax.yield %s : tensor<4xf32>
  }, {
    lax.yield %x : tensor<4xf32>
  }
  %r = lax.scan (%x) xs () length 3 reverse false unroll 1 : (tensor<4xf32>) -> (tensor<4xf32>) {
  ^bb0(%c: tensor<4xf32>):
    %dead2 = lax.cos %c : tensor<4xf32>
    %c2 = lax.tanh %c : tensor<4xf32>
    lax.yield %c2 : tensor<4xf32>
  }
  func.return %a, %r : tensor<4xf32>, tensor<4xf32>
}
// CHECK-NEXT:    %a = lax.cond %i : tensor<i32> -> tensor<4xf32> {
// CHECK-NEXT:      %s = lax.sin %x : tensor<4xf32>
// CHECK-NEXT:      lax.yield %s : tensor<4xf32>
// CHECK:         %r = lax.scan (%x)
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c: tensor<4xf32>):
// CHECK-NEXT:      %c2 = lax.tanh %c : tensor<4xf32>
// CHECK-NEXT:      lax.yield %c2 : tensor<4xf32>

// CHECK-LABEL: func.func @unused_loops
func.func @unused_loops(%x: tensor<f32>, %n: tensor<i32>) -> tensor<f32> {
  %r:2 = lax.while (%x, %n) : (tensor<f32>, tensor<i32>) cond {
  ^bb0(%c: tensor<f32>, %k: tensor<i32>):
    %zero = lax.constant dense<0> : tensor<i32>
    %p = lax.gt %k, %zero : (tensor<i32>, tensor<i32>) -> tensor<i1>
    lax.yield %p : tensor<i1>
  } do {
  ^bb0(%c: tensor<f32>, %k: tensor<i32>):
    %one = lax.constant dense<1> : tensor<i32>
    %k2 = lax.sub %k, %one : tensor<i32>
    lax.yield %c, %k2 : tensor<f32>, tensor<i32>
  }
  %s = lax.scan (%x) xs () length 3 reverse false unroll 1 : (tensor<f32>) -> (tensor<f32>) {
  ^bb0(%c: tensor<f32>):
    %g = lax.generic "erf_inv" %c params {} : tensor<f32>
    lax.yield %g : tensor<f32>
  }
  func.return %x : tensor<f32>
}
// CHECK-NOT:     lax.while
// CHECK-NEXT:    %s = lax.scan (%x)
// CHECK:           lax.generic
// CHECK:         func.return %x : tensor<f32>
