// RUN: tiers-opt %s -p O1 | filecheck %s
// RUN: tiers-opt %s -p O2 | filecheck %s

// O1 and O2 run `canonicalize` before `licm`: the dead accumulator %acc (and the exp of a
// captured value that only it read) goes first, then the invariant matmul leaves the loop
// (O2 then raises the matmuls to `array.matmul`).

// CHECK-LABEL: func.func @main
func.func @main(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>, %y0: tensor<2x8xf32>, %acc0: tensor<f32>) -> tensor<2x8xf32> {
  %r:2 = lax.scan (%y0, %acc0) xs () length 10 reverse false unroll 1 : (tensor<2x8xf32>, tensor<f32>) -> (tensor<2x8xf32>, tensor<f32>) {
  ^bb0(%y: tensor<2x8xf32>, %acc: tensor<f32>):
    %m = lax.dot_general %a, %b lhs_contracting [1] rhs_contracting [0] lhs_batch [] rhs_batch [] : tensor<8x8xf32>
    %y2 = lax.dot_general %y, %m lhs_contracting [1] rhs_contracting [0] lhs_batch [] rhs_batch [] : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
    %y3 = lax.tanh %y2 : tensor<2x8xf32>
    %e = lax.exp %a : tensor<8x8xf32>
    %s = lax.reduce_sum %e axes [0, 1] : tensor<8x8xf32> -> tensor<f32>
    %acc2 = lax.add %acc, %s : tensor<f32>
    lax.yield %y3, %acc2 : tensor<2x8xf32>, tensor<f32>
  }
  func.return %r#0 : tensor<2x8xf32>
}
// CHECK-NEXT:    %m = {{lax.dot_general|array.matmul}} %a, %b
// CHECK-NEXT:    %r = lax.scan (%y0) xs () length 10 reverse false unroll 1 : tensor<2x8xf32> -> tensor<2x8xf32> {
// CHECK-NEXT:    ^bb{{[0-9]+}}(%y: tensor<2x8xf32>):
// CHECK-NEXT:      %y2 = {{lax.dot_general|array.matmul}} %y, %m
// CHECK-NOT:       lax.exp
// CHECK:         func.return %r : tensor<2x8xf32>
