// RUN: tiers-opt %s -p convert-array-to-lax | filecheck %s
// RUN: tiers-opt %s -p convert-array-to-lax | filecheck %s --check-prefix=NONE

// Each array op becomes the lax ops JAX emits for it (canonical form, reduced not keepdims);
// no array op is left.
// NONE-NOT: array.

// max(x, 0)
func.func @relu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = array.relu %x : tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}
// CHECK-LABEL: func.func @relu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    %0 = lax.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %1 = lax.broadcast_in_dim %0 dims [] : tensor<f32> -> tensor<4x8xf32>
// CHECK-NEXT:    %2 = lax.max %x, %1 : tensor<4x8xf32>
// CHECK-NEXT:    func.return %2 : tensor<4x8xf32>

// x * ((tanh((x + x^3 * 0.044715) * sqrt(2/pi)) + 1) * 0.5) and (x * 0.5) * erfc(-x * sqrt(1/2))
func.func @gelu(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = array.gelu %x approximate true : tensor<4x8xf32>
  %1 = array.gelu %x approximate false : tensor<4x8xf32>
  func.return %0, %1 : tensor<4x8xf32>, tensor<4x8xf32>
}
// CHECK-LABEL: func.func @gelu(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
// CHECK-NEXT:    %0 = lax.integer_pow %x y 3 : tensor<4x8xf32>
// CHECK-NEXT:    %1 = lax.constant dense<4.471500e-02> : tensor<f32>
// CHECK-NEXT:    %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<4x8xf32>
// CHECK-NEXT:    %3 = lax.mul %0, %2 : tensor<4x8xf32>
// CHECK-NEXT:    %4 = lax.add %x, %3 : tensor<4x8xf32>
// CHECK-NEXT:    %5 = lax.constant dense<0.797884583> : tensor<f32>
// CHECK-NEXT:    %6 = lax.broadcast_in_dim %5 dims [] : tensor<f32> -> tensor<4x8xf32>
// CHECK-NEXT:    %7 = lax.mul %4, %6 : tensor<4x8xf32>
// CHECK-NEXT:    %8 = lax.tanh %7 : tensor<4x8xf32>
// CHECK-NEXT:    %9 = lax.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %10 = lax.broadcast_in_dim %9 dims [] : tensor<f32> -> tensor<4x8xf32>
// CHECK-NEXT:    %11 = lax.add %8, %10 : tensor<4x8xf32>
// CHECK-NEXT:    %12 = lax.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT:    %13 = lax.broadcast_in_dim %12 dims [] : tensor<f32> -> tensor<4x8xf32>
// CHECK-NEXT:    %14 = lax.mul %11, %13 : tensor<4x8xf32>
// CHECK-NEXT:    %15 = lax.mul %x, %14 : tensor<4x8xf32>
// CHECK-NEXT:    %16 = lax.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT:    %17 = lax.broadcast_in_dim %16 dims [] : tensor<f32> -> tensor<4x8xf32>
// CHECK-NEXT:    %18 = lax.mul %x, %17 : tensor<4x8xf32>
// CHECK-NEXT:    %19 = lax.neg %x : tensor<4x8xf32>
// CHECK-NEXT:    %20 = lax.constant dense<0.707106769> : tensor<f32>
// CHECK-NEXT:    %21 = lax.broadcast_in_dim %20 dims [] : tensor<f32> -> tensor<4x8xf32>
// CHECK-NEXT:    %22 = lax.mul %19, %21 : tensor<4x8xf32>
// CHECK-NEXT:    %23 = lax.erfc %22 : tensor<4x8xf32>
// CHECK-NEXT:    %24 = lax.mul %18, %23 : tensor<4x8xf32>
// CHECK-NEXT:    func.return %15, %24 : tensor<4x8xf32>, tensor<4x8xf32>

// x * logistic(x)
func.func @silu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = array.silu %x : tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}
// CHECK-LABEL: func.func @silu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    %0 = lax.logistic %x : tensor<4x8xf32>
// CHECK-NEXT:    %1 = lax.mul %x, %0 : tensor<4x8xf32>
// CHECK-NEXT:    func.return %1 : tensor<4x8xf32>

// e / sum(e), e = exp(x - max(reduce_max(x), -inf))
func.func @softmax(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = array.softmax %x axis 1 : tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}
// CHECK-LABEL: func.func @softmax(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    %0 = lax.reduce_max %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    %1 = lax.constant dense<"0x000080FF"> : tensor<f32>
// CHECK-NEXT:    %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:    %3 = lax.max %0, %2 : tensor<4xf32>
// CHECK-NEXT:    %4 = lax.broadcast_in_dim %3 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %5 = lax.sub %x, %4 : tensor<4x8xf32>
// CHECK-NEXT:    %6 = lax.exp %5 : tensor<4x8xf32>
// CHECK-NEXT:    %7 = lax.reduce_sum %6 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    %8 = lax.broadcast_in_dim %7 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %9 = lax.div %6, %8 : tensor<4x8xf32>
// CHECK-NEXT:    func.return %9 : tensor<4x8xf32>

// s - log(sum(exp(s))), s = x - max(x)
func.func @log_softmax(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = array.log_softmax %x axis 0 : tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}
// CHECK-LABEL: func.func @log_softmax(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    %0 = lax.reduce_max %x axes [0] : tensor<4x8xf32> -> tensor<8xf32>
// CHECK-NEXT:    %1 = lax.constant dense<"0x000080FF"> : tensor<f32>
// CHECK-NEXT:    %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<8xf32>
// CHECK-NEXT:    %3 = lax.max %0, %2 : tensor<8xf32>
// CHECK-NEXT:    %4 = lax.broadcast_in_dim %3 dims [1] : tensor<8xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %5 = lax.sub %x, %4 : tensor<4x8xf32>
// CHECK-NEXT:    %6 = lax.exp %5 : tensor<4x8xf32>
// CHECK-NEXT:    %7 = lax.reduce_sum %6 axes [0] : tensor<4x8xf32> -> tensor<8xf32>
// CHECK-NEXT:    %8 = lax.log %7 : tensor<8xf32>
// CHECK-NEXT:    %9 = lax.broadcast_in_dim %8 dims [1] : tensor<8xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %10 = lax.sub %5, %9 : tensor<4x8xf32>
// CHECK-NEXT:    func.return %10 : tensor<4x8xf32>

// log(|sum(exp(x - c))|) + c, c = select(is_finite(m), m, 0), m = max(x)
func.func @logsumexp(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = array.logsumexp %x axis 1 : tensor<4x8xf32> -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK-LABEL: func.func @logsumexp(%x: tensor<4x8xf32>) -> tensor<4xf32> {
// CHECK-NEXT:    %0 = lax.reduce_max %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    %1 = lax.constant dense<"0x000080FF"> : tensor<f32>
// CHECK-NEXT:    %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:    %3 = lax.max %0, %2 : tensor<4xf32>
// CHECK-NEXT:    %4 = lax.is_finite %3 : tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    %5 = lax.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %6 = lax.broadcast_in_dim %5 dims [] : tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:    %7 = lax.select_n %4, %6, %3 : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %8 = lax.broadcast_in_dim %7 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %9 = lax.sub %x, %8 : tensor<4x8xf32>
// CHECK-NEXT:    %10 = lax.exp %9 : tensor<4x8xf32>
// CHECK-NEXT:    %11 = lax.reduce_sum %10 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    %12 = lax.abs %11 : tensor<4xf32>
// CHECK-NEXT:    %13 = lax.log %12 : tensor<4xf32>
// CHECK-NEXT:    %14 = lax.add %13, %7 : tensor<4xf32>
// CHECK-NEXT:    func.return %14 : tensor<4xf32>

// sum(x) / n; sum(square(x - mean(x))) / (n - ddof), a NaN constant when n <= ddof
func.func @statistics(%x: tensor<2x4xf32>) -> (tensor<4xf32>, tensor<2xf32>, tensor<f32>) {
  %0 = array.mean %x axes [0] : tensor<2x4xf32> -> tensor<4xf32>
  %1 = array.var %x axes [1] ddof 1 : tensor<2x4xf32> -> tensor<2xf32>
  %2 = array.var %x axes [0, 1] ddof 8 : tensor<2x4xf32> -> tensor<f32>
  func.return %0, %1, %2 : tensor<4xf32>, tensor<2xf32>, tensor<f32>
}
// CHECK-LABEL: func.func @statistics(%x: tensor<2x4xf32>) -> (tensor<4xf32>, tensor<2xf32>, tensor<f32>) {
// CHECK-NEXT:    %0 = lax.reduce_sum %x axes [0] : tensor<2x4xf32> -> tensor<4xf32>
// CHECK-NEXT:    %1 = lax.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT:    %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:    %3 = lax.div %0, %2 : tensor<4xf32>
// CHECK-NEXT:    %4 = lax.reduce_sum %x axes [1] : tensor<2x4xf32> -> tensor<2xf32>
// CHECK-NEXT:    %5 = lax.constant dense<4.000000e+00> : tensor<f32>
// CHECK-NEXT:    %6 = lax.broadcast_in_dim %5 dims [] : tensor<f32> -> tensor<2xf32>
// CHECK-NEXT:    %7 = lax.div %4, %6 : tensor<2xf32>
// CHECK-NEXT:    %8 = lax.broadcast_in_dim %7 dims [0] : tensor<2xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %9 = lax.sub %x, %8 : tensor<2x4xf32>
// CHECK-NEXT:    %10 = lax.square %9 : tensor<2x4xf32>
// CHECK-NEXT:    %11 = lax.reduce_sum %10 axes [1] : tensor<2x4xf32> -> tensor<2xf32>
// CHECK-NEXT:    %12 = lax.constant dense<3.000000e+00> : tensor<f32>
// CHECK-NEXT:    %13 = lax.broadcast_in_dim %12 dims [] : tensor<f32> -> tensor<2xf32>
// CHECK-NEXT:    %14 = lax.div %11, %13 : tensor<2xf32>
// CHECK-NEXT:    %15 = lax.constant dense<"0x0000C07F"> : tensor<f32>
// CHECK-NEXT:    func.return %3, %14, %15 : tensor<4xf32>, tensor<2xf32>, tensor<f32>

// d / sqrt(sum(square(d)) / n + eps) * g + b, d = x - mean(x); bias and scale along the axis
func.func @layer_norm(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = array.layer_norm %x, %g, %b axis 1 epsilon 1.0e-05 : f64 : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %1 = array.layer_norm %x axis 1 epsilon 1.0e-05 : f64 : tensor<4x8xf32>
  func.return %0, %1 : tensor<4x8xf32>, tensor<4x8xf32>
}
// CHECK-LABEL: func.func @layer_norm(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
// CHECK-NEXT:    %0 = lax.reduce_sum %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    %1 = lax.constant dense<8.000000e+00> : tensor<f32>
// CHECK-NEXT:    %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:    %3 = lax.div %0, %2 : tensor<4xf32>
// CHECK-NEXT:    %4 = lax.broadcast_in_dim %3 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %5 = lax.sub %x, %4 : tensor<4x8xf32>
// CHECK-NEXT:    %6 = lax.square %5 : tensor<4x8xf32>
// CHECK-NEXT:    %7 = lax.reduce_sum %6 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    %8 = lax.constant dense<8.000000e+00> : tensor<f32>
// CHECK-NEXT:    %9 = lax.broadcast_in_dim %8 dims [] : tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:    %10 = lax.div %7, %9 : tensor<4xf32>
// CHECK-NEXT:    %11 = lax.constant dense<1.000000e-05> : tensor<f32>
// CHECK-NEXT:    %12 = lax.broadcast_in_dim %11 dims [] : tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:    %13 = lax.add %10, %12 : tensor<4xf32>
// CHECK-NEXT:    %14 = lax.sqrt %13 : tensor<4xf32>
// CHECK-NEXT:    %15 = lax.broadcast_in_dim %14 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %16 = lax.div %5, %15 : tensor<4x8xf32>
// CHECK-NEXT:    %17 = lax.broadcast_in_dim %g dims [1] : tensor<8xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %18 = lax.mul %16, %17 : tensor<4x8xf32>
// CHECK-NEXT:    %19 = lax.broadcast_in_dim %b dims [1] : tensor<8xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %20 = lax.add %18, %19 : tensor<4x8xf32>
// CHECK-NEXT:    %21 = lax.reduce_sum %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    %22 = lax.constant dense<8.000000e+00> : tensor<f32>
// CHECK-NEXT:    %23 = lax.broadcast_in_dim %22 dims [] : tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:    %24 = lax.div %21, %23 : tensor<4xf32>
// CHECK-NEXT:    %25 = lax.broadcast_in_dim %24 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %26 = lax.sub %x, %25 : tensor<4x8xf32>
// CHECK-NEXT:    %27 = lax.square %26 : tensor<4x8xf32>
// CHECK-NEXT:    %28 = lax.reduce_sum %27 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    %29 = lax.constant dense<8.000000e+00> : tensor<f32>
// CHECK-NEXT:    %30 = lax.broadcast_in_dim %29 dims [] : tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:    %31 = lax.div %28, %30 : tensor<4xf32>
// CHECK-NEXT:    %32 = lax.constant dense<1.000000e-05> : tensor<f32>
// CHECK-NEXT:    %33 = lax.broadcast_in_dim %32 dims [] : tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:    %34 = lax.add %31, %33 : tensor<4xf32>
// CHECK-NEXT:    %35 = lax.sqrt %34 : tensor<4xf32>
// CHECK-NEXT:    %36 = lax.broadcast_in_dim %35 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %37 = lax.div %26, %36 : tensor<4x8xf32>
// CHECK-NEXT:    func.return %20, %37 : tensor<4x8xf32>, tensor<4x8xf32>

// x / sqrt(mean(square(x)) + eps) * g
func.func @rms_norm(%x: tensor<4x8xf32>, %g: tensor<4xf32>) -> tensor<4x8xf32> {
  %0 = array.rms_norm %x, %g axis 0 epsilon 1.0e-06 : f64 : (tensor<4x8xf32>, tensor<4xf32>) -> tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}
// CHECK-LABEL: func.func @rms_norm(%x: tensor<4x8xf32>, %g: tensor<4xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    %0 = lax.square %x : tensor<4x8xf32>
// CHECK-NEXT:    %1 = lax.reduce_sum %0 axes [0] : tensor<4x8xf32> -> tensor<8xf32>
// CHECK-NEXT:    %2 = lax.constant dense<4.000000e+00> : tensor<f32>
// CHECK-NEXT:    %3 = lax.broadcast_in_dim %2 dims [] : tensor<f32> -> tensor<8xf32>
// CHECK-NEXT:    %4 = lax.div %1, %3 : tensor<8xf32>
// CHECK-NEXT:    %5 = lax.constant dense<1.000000e-06> : tensor<f32>
// CHECK-NEXT:    %6 = lax.broadcast_in_dim %5 dims [] : tensor<f32> -> tensor<8xf32>
// CHECK-NEXT:    %7 = lax.add %4, %6 : tensor<8xf32>
// CHECK-NEXT:    %8 = lax.sqrt %7 : tensor<8xf32>
// CHECK-NEXT:    %9 = lax.broadcast_in_dim %8 dims [1] : tensor<8xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %10 = lax.div %x, %9 : tensor<4x8xf32>
// CHECK-NEXT:    %11 = lax.broadcast_in_dim %g dims [0] : tensor<4xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %12 = lax.mul %10, %11 : tensor<4x8xf32>
// CHECK-NEXT:    func.return %12 : tensor<4x8xf32>

// An unbatched rhs contracts directly; otherwise both sides are broadcast to the batch dims.
func.func @matmul(%a: tensor<2x4x8xf32>, %b: tensor<8x3xf32>, %c: tensor<3x1x8x5xf32>) -> (tensor<2x4x3xf32>, tensor<3x2x4x5xf32>) {
  %0 = array.matmul %a, %b : (tensor<2x4x8xf32>, tensor<8x3xf32>) -> tensor<2x4x3xf32>
  %1 = array.matmul %a, %c : (tensor<2x4x8xf32>, tensor<3x1x8x5xf32>) -> tensor<3x2x4x5xf32>
  func.return %0, %1 : tensor<2x4x3xf32>, tensor<3x2x4x5xf32>
}
// CHECK-LABEL: func.func @matmul(%a: tensor<2x4x8xf32>, %b: tensor<8x3xf32>, %c: tensor<3x1x8x5xf32>) -> (tensor<2x4x3xf32>, tensor<3x2x4x5xf32>) {
// CHECK-NEXT:    %0 = lax.dot_general %a, %b lhs_contracting [2] rhs_contracting [0] lhs_batch [] rhs_batch [] : (tensor<2x4x8xf32>, tensor<8x3xf32>) -> tensor<2x4x3xf32>
// CHECK-NEXT:    %1 = lax.broadcast_in_dim %a dims [1, 2, 3] : tensor<2x4x8xf32> -> tensor<3x2x4x8xf32>
// CHECK-NEXT:    %2 = lax.broadcast_in_dim %c dims [0, 1, 2, 3] : tensor<3x1x8x5xf32> -> tensor<3x2x8x5xf32>
// CHECK-NEXT:    %3 = lax.dot_general %1, %2 lhs_contracting [3] rhs_contracting [2] lhs_batch [0, 1] rhs_batch [0, 1] : (tensor<3x2x4x8xf32>, tensor<3x2x8x5xf32>) -> tensor<3x2x4x5xf32>
// CHECK-NEXT:    func.return %0, %3 : tensor<2x4x3xf32>, tensor<3x2x4x5xf32>

// softmax(select(mask, q k^T * scale, -0.7 * max f32)) v
func.func @attention(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x5xf32>, %m: tensor<2x4x6xi1>) -> tensor<2x4x5xf32> {
  %0 = array.attention %q, %k, %v, %m scale 0.125 : f64 : (tensor<2x4x8xf32>, tensor<2x6x8xf32>, tensor<2x6x5xf32>, tensor<2x4x6xi1>) -> tensor<2x4x5xf32>
  func.return %0 : tensor<2x4x5xf32>
}
// CHECK-LABEL: func.func @attention(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x5xf32>, %m: tensor<2x4x6xi1>) -> tensor<2x4x5xf32> {
// CHECK-NEXT:    %0 = lax.dot_general %q, %k lhs_contracting [2] rhs_contracting [2] lhs_batch [0] rhs_batch [0] : (tensor<2x4x8xf32>, tensor<2x6x8xf32>) -> tensor<2x4x6xf32>
// CHECK-NEXT:    %1 = lax.constant dense<1.250000e-01> : tensor<f32>
// CHECK-NEXT:    %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<2x4x6xf32>
// CHECK-NEXT:    %3 = lax.mul %0, %2 : tensor<2x4x6xf32>
// CHECK-NEXT:    %4 = lax.constant dense<-2.38197633e+38> : tensor<f32>
// CHECK-NEXT:    %5 = lax.broadcast_in_dim %4 dims [] : tensor<f32> -> tensor<2x4x6xf32>
// CHECK-NEXT:    %6 = lax.select_n %m, %5, %3 : (tensor<2x4x6xi1>, tensor<2x4x6xf32>, tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
// CHECK-NEXT:    %7 = lax.reduce_max %6 axes [2] : tensor<2x4x6xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %8 = lax.constant dense<"0x000080FF"> : tensor<f32>
// CHECK-NEXT:    %9 = lax.broadcast_in_dim %8 dims [] : tensor<f32> -> tensor<2x4xf32>
// CHECK-NEXT:    %10 = lax.max %7, %9 : tensor<2x4xf32>
// CHECK-NEXT:    %11 = lax.broadcast_in_dim %10 dims [0, 1] : tensor<2x4xf32> -> tensor<2x4x6xf32>
// CHECK-NEXT:    %12 = lax.sub %6, %11 : tensor<2x4x6xf32>
// CHECK-NEXT:    %13 = lax.exp %12 : tensor<2x4x6xf32>
// CHECK-NEXT:    %14 = lax.reduce_sum %13 axes [2] : tensor<2x4x6xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %15 = lax.broadcast_in_dim %14 dims [0, 1] : tensor<2x4xf32> -> tensor<2x4x6xf32>
// CHECK-NEXT:    %16 = lax.div %13, %15 : tensor<2x4x6xf32>
// CHECK-NEXT:    %17 = lax.dot_general %16, %v lhs_contracting [2] rhs_contracting [1] lhs_batch [0] rhs_batch [0] : (tensor<2x4x6xf32>, tensor<2x6x5xf32>) -> tensor<2x4x5xf32>
// CHECK-NEXT:    func.return %17 : tensor<2x4x5xf32>
