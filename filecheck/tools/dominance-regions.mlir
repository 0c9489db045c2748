// A value used inside a loop's region before it is defined outside, caught after a pass too.
// RUN: not tiers-opt %s -p cse 2>&1 | filecheck %s

// A loop body reading a value defined after the loop.
func.func @loop(%x: tensor<f32>) -> tensor<f32> {
  %r = lax.while (%x) : tensor<f32> cond {
  ^bb0(%c: tensor<f32>):
    %t = lax.lt %c, %late : (tensor<f32>, tensor<f32>) -> tensor<i1>
    lax.yield %t : tensor<i1>
  } do {
  ^bb0(%c: tensor<f32>):
    lax.yield %c : tensor<f32>
  }
  %late = lax.neg %x : tensor<f32>
  func.return %r : tensor<f32>
}
// CHECK: dominance-regions.mlir:8:5: error: operand #1 does not dominate this use
