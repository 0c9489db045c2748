// RUN: tiers-opt %s -p canonicalize | filecheck %s

// Complex numbers are pairs of floats: a rewrite holds only where it holds for each part under
// complex arithmetic. x + (-0 - 0i) -> x and x - (0 + 0i) -> x; x + (0 + 0i) (-0 becomes +0),
// x - (0 - 0i), x * (1 + 0i) (the real part is a - b * 0: NaN for an infinite b) and
// x / (1 + 0i) stay. max of complex numbers keeps its operand order (ties pick the second).

// CHECK-LABEL: func.func @zeros_and_ones
func.func @zeros_and_ones(%x: tensor<2xcomplex<f32>>) -> (tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>) {
  %neg0 = lax.constant dense<(-0.0, -0.0)> : tensor<2xcomplex<f32>>
  %pos0 = lax.constant dense<(0.0, 0.0)> : tensor<2xcomplex<f32>>
  %mixed = lax.constant dense<(0.0, -0.0)> : tensor<2xcomplex<f32>>
  %one = lax.constant dense<(1.0, 0.0)> : tensor<2xcomplex<f32>>
  %0 = lax.add %x, %neg0 : tensor<2xcomplex<f32>>
  %1 = lax.sub %x, %pos0 : tensor<2xcomplex<f32>>
  %2 = lax.add %x, %pos0 : tensor<2xcomplex<f32>>
  %3 = lax.sub %x, %mixed : tensor<2xcomplex<f32>>
  %4 = lax.mul %x, %one : tensor<2xcomplex<f32>>
  %5 = lax.div %x, %one : tensor<2xcomplex<f32>>
  func.return %0, %1, %2, %3, %4, %5 : tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>
}
// CHECK:      %[[ADD:.*]] = lax.add %x, %{{.*}} : tensor<2xcomplex<f32>>
// CHECK:      %[[SUB:.*]] = lax.sub %x, %{{.*}} : tensor<2xcomplex<f32>>
// CHECK:      %[[MUL:.*]] = lax.mul %x, %{{.*}} : tensor<2xcomplex<f32>>
// CHECK:      %[[DIV:.*]] = lax.div %x, %{{.*}} : tensor<2xcomplex<f32>>
// CHECK:      func.return %x, %x, %[[ADD]], %[[SUB]], %[[MUL]], %[[DIV]]

// CHECK-LABEL: func.func @max_order
func.func @max_order(%x: tensor<2xcomplex<f32>>, %y: tensor<2xcomplex<f32>>) -> (tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>) {
  %0 = lax.max %x, %y : tensor<2xcomplex<f32>>
  %1 = lax.max %y, %x : tensor<2xcomplex<f32>>
  func.return %0, %1 : tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>
}
// CHECK-NEXT: %0 = lax.max %x, %y : tensor<2xcomplex<f32>>
// CHECK-NEXT: %1 = lax.max %y, %x : tensor<2xcomplex<f32>>
