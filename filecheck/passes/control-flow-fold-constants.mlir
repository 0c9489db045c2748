// RUN: tiers-opt %s -p fold-constants | filecheck %s

// `fold-constants` inside regions: an op whose operands are constants (defined in the region
// or captured from above) folds where it is; ops reading a carried value or a branch's
// result do not, and the region ops themselves are never evaluated.

// CHECK-LABEL: func.func @fold_in_body
func.func @fold_in_body(%x: tensor<f32>) -> tensor<f32> {
  %two = lax.constant dense<2.0> : tensor<f32>
  %r = lax.scan (%x) xs () length 3 reverse false unroll 1 : (tensor<f32>) -> (tensor<f32>) {
  ^bb0(%c: tensor<f32>):
    %three = lax.constant dense<3.0> : tensor<f32>
    %six = lax.mul %two, %three : tensor<f32>
    %c2 = lax.mul %c, %six : tensor<f32>
    lax.yield %c2 : tensor<f32>
  }
  func.return %r : tensor<f32>
}
// CHECK:         %r = lax.scan (%x)
// CHECK-NEXT:    ^bb{{[0-9]+}}(%c: tensor<f32>):
// CHECK-NEXT:      %three = lax.constant dense<3.000000e+00> : tensor<f32>
// CHECK-NEXT:      %six = lax.constant dense<6.000000e+00> : tensor<f32>
// CHECK-NEXT:      %c2 = lax.mul %c, %six : tensor<f32>

// CHECK-LABEL: func.func @fold_in_branch
func.func @fold_in_branch(%i: tensor<i32>) -> tensor<f32> {
  %one = lax.constant dense<1.0> : tensor<f32>
  %a = lax.cond %i : tensor<i32> -> tensor<f32> {
    %e = lax.neg %one : tensor<f32>
    lax.yield %e : tensor<f32>
  }, {
    lax.yield %one : tensor<f32>
  }
  %b = lax.add %a, %one : tensor<f32>
  func.return %b : tensor<f32>
}
// CHECK:         %a = lax.cond %i : tensor<i32> -> tensor<f32> {
// CHECK-NEXT:      %e = lax.constant dense<-1.000000e+00> : tensor<f32>
// CHECK-NEXT:      lax.yield %e : tensor<f32>
// CHECK:         %b = lax.add %a, %one : tensor<f32>
