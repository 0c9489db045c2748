// RUN: tiers-opt %s -p raise-lax-to-array | filecheck %s

// The lax ops JAX 0.10.2 emits for jax.nn / jnp functions (after inline,canonicalize,cse,dce)
// become one array op each; constants they read are erased once unused. Nothing is raised
// when an intermediate value has another user.

// jax.nn.softmax: exp(s) / sum(exp(s)), s = x - max(reduce_max(x), -inf). (-inf is written
// as a hex blob: the printed 0xff800000 does not parse back in xDSL 0.74.)
func.func @softmax(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = lax.reduce_max %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %1 = lax.constant dense<"0x000080FF"> : tensor<f32>
  %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<4xf32>
  %3 = lax.max %0, %2 : tensor<4xf32>
  %4 = lax.broadcast_in_dim %3 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
  %5 = lax.sub %x, %4 : tensor<4x8xf32>
  %6 = lax.exp %5 : tensor<4x8xf32>
  %7 = lax.reduce_sum %6 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %8 = lax.broadcast_in_dim %7 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
  %9 = lax.div %6, %8 : tensor<4x8xf32>
  func.return %9 : tensor<4x8xf32>
}
// CHECK-LABEL: func.func @softmax(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    %0 = array.softmax %x axis 1 : tensor<4x8xf32>
// CHECK-NEXT:    func.return %0 : tensor<4x8xf32>

// jax.nn.log_softmax: s - log(sum(exp(s))), the sum kept as 4x1 (keepdims).
func.func @log_softmax(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = lax.reduce_max %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %1 = lax.constant dense<"0x000080FF"> : tensor<f32>
  %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<4xf32>
  %3 = lax.max %0, %2 : tensor<4xf32>
  %4 = lax.broadcast_in_dim %3 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
  %5 = lax.sub %x, %4 : tensor<4x8xf32>
  %6 = lax.exp %5 : tensor<4x8xf32>
  %7 = lax.reduce_sum %6 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %8 = lax.broadcast_in_dim %7 dims [0] : tensor<4xf32> -> tensor<4x1xf32>
  %9 = lax.log %8 : tensor<4x1xf32>
  %10 = lax.broadcast_in_dim %9 dims [0, 1] : tensor<4x1xf32> -> tensor<4x8xf32>
  %11 = lax.sub %5, %10 : tensor<4x8xf32>
  func.return %11 : tensor<4x8xf32>
}
// CHECK-LABEL: func.func @log_softmax(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    %0 = array.log_softmax %x axis 1 : tensor<4x8xf32>
// CHECK-NEXT:    func.return %0 : tensor<4x8xf32>

// jax.nn.logsumexp: log(|sum(exp(x - c))|) + c, c = select(is_finite(m), m, 0).
func.func @logsumexp(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = lax.reduce_max %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %1 = lax.constant dense<"0x000080FF"> : tensor<f32>
  %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<4xf32>
  %3 = lax.max %0, %2 : tensor<4xf32>
  %4 = lax.is_finite %3 : tensor<4xf32> -> tensor<4xi1>
  %5 = lax.constant dense<0.000000e+00> : tensor<f32>
  %6 = lax.broadcast_in_dim %5 dims [] : tensor<f32> -> tensor<4xf32>
  %7 = lax.select_n %4, %6, %3 : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %8 = lax.broadcast_in_dim %7 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
  %9 = lax.sub %x, %8 : tensor<4x8xf32>
  %10 = lax.exp %9 : tensor<4x8xf32>
  %11 = lax.reduce_sum %10 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %12 = lax.abs %11 : tensor<4xf32>
  %13 = lax.log %12 : tensor<4xf32>
  %14 = lax.add %13, %7 : tensor<4xf32>
  func.return %14 : tensor<4xf32>
}
// CHECK-LABEL: func.func @logsumexp(%x: tensor<4x8xf32>) -> tensor<4xf32> {
// CHECK-NEXT:    %0 = array.logsumexp %x axis 1 : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    func.return %0 : tensor<4xf32>

// jax.nn.relu: max(x, 0).
func.func @relu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = lax.constant dense<0.000000e+00> : tensor<f32>
  %1 = lax.broadcast_in_dim %0 dims [] : tensor<f32> -> tensor<4x8xf32>
  %2 = lax.max %x, %1 : tensor<4x8xf32>
  func.return %2 : tensor<4x8xf32>
}
// CHECK-LABEL: func.func @relu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    %0 = array.relu %x : tensor<4x8xf32>
// CHECK-NEXT:    func.return %0 : tensor<4x8xf32>

// jax.nn.gelu(approximate=True): x * ((tanh((x + x^3 * 0.044715) * sqrt(2/pi)) + 1) * 0.5).
func.func @gelu_tanh(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = lax.integer_pow %x y 3 : tensor<4x8xf32>
  %1 = lax.constant dense<4.471500e-02> : tensor<f32>
  %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<4x8xf32>
  %3 = lax.mul %0, %2 : tensor<4x8xf32>
  %4 = lax.add %x, %3 : tensor<4x8xf32>
  %5 = lax.constant dense<0.797884583> : tensor<f32>
  %6 = lax.broadcast_in_dim %5 dims [] : tensor<f32> -> tensor<4x8xf32>
  %7 = lax.mul %4, %6 : tensor<4x8xf32>
  %8 = lax.tanh %7 : tensor<4x8xf32>
  %9 = lax.constant dense<1.000000e+00> : tensor<f32>
  %10 = lax.broadcast_in_dim %9 dims [] : tensor<f32> -> tensor<4x8xf32>
  %11 = lax.add %8, %10 : tensor<4x8xf32>
  %12 = lax.constant dense<5.000000e-01> : tensor<f32>
  %13 = lax.broadcast_in_dim %12 dims [] : tensor<f32> -> tensor<4x8xf32>
  %14 = lax.mul %11, %13 : tensor<4x8xf32>
  %15 = lax.mul %x, %14 : tensor<4x8xf32>
  func.return %15 : tensor<4x8xf32>
}
// CHECK-LABEL: func.func @gelu_tanh(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    %0 = array.gelu %x approximate true : tensor<4x8xf32>
// CHECK-NEXT:    func.return %0 : tensor<4x8xf32>

// jax.nn.gelu(approximate=False): (x * 0.5) * erfc(-x * sqrt(1/2)).
func.func @gelu_erfc(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = lax.constant dense<5.000000e-01> : tensor<f32>
  %1 = lax.broadcast_in_dim %0 dims [] : tensor<f32> -> tensor<4x8xf32>
  %2 = lax.mul %x, %1 : tensor<4x8xf32>
  %3 = lax.neg %x : tensor<4x8xf32>
  %4 = lax.constant dense<0.707106769> : tensor<f32>
  %5 = lax.broadcast_in_dim %4 dims [] : tensor<f32> -> tensor<4x8xf32>
  %6 = lax.mul %3, %5 : tensor<4x8xf32>
  %7 = lax.erfc %6 : tensor<4x8xf32>
  %8 = lax.mul %2, %7 : tensor<4x8xf32>
  func.return %8 : tensor<4x8xf32>
}
// CHECK-LABEL: func.func @gelu_erfc(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    %0 = array.gelu %x approximate false : tensor<4x8xf32>
// CHECK-NEXT:    func.return %0 : tensor<4x8xf32>

// jax.nn.silu: x * logistic(x).
func.func @silu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = lax.logistic %x : tensor<4x8xf32>
  %1 = lax.mul %x, %0 : tensor<4x8xf32>
  func.return %1 : tensor<4x8xf32>
}
// CHECK-LABEL: func.func @silu(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    %0 = array.silu %x : tensor<4x8xf32>
// CHECK-NEXT:    func.return %0 : tensor<4x8xf32>

// jnp.mean: reduce_sum(x) / n.
func.func @mean(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = lax.reduce_sum %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %1 = lax.constant dense<8.000000e+00> : tensor<f32>
  %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<4xf32>
  %3 = lax.div %0, %2 : tensor<4xf32>
  func.return %3 : tensor<4xf32>
}
// CHECK-LABEL: func.func @mean(%x: tensor<4x8xf32>) -> tensor<4xf32> {
// CHECK-NEXT:    %0 = array.mean %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    func.return %0 : tensor<4xf32>

// jnp.var(ddof=1): sum(square(x - mean)) / (n - ddof), guarded by select(n - ddof > 0, .., nan)
// with n - ddof still unfolded (no fold-constants ran).
func.func @var(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = lax.constant dense<1> : tensor<i32>
  %1 = lax.reduce_sum %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %2 = lax.broadcast_in_dim %1 dims [0] : tensor<4xf32> -> tensor<4x1xf32>
  %3 = lax.constant dense<8.000000e+00> : tensor<f32>
  %4 = lax.broadcast_in_dim %3 dims [] : tensor<f32> -> tensor<4x1xf32>
  %5 = lax.div %2, %4 : tensor<4x1xf32>
  %6 = lax.broadcast_in_dim %5 dims [0, 1] : tensor<4x1xf32> -> tensor<4x8xf32>
  %7 = lax.sub %x, %6 : tensor<4x8xf32>
  %8 = lax.square %7 : tensor<4x8xf32>
  %9 = lax.convert_element_type %0 : tensor<i32> -> tensor<f32>
  %10 = lax.sub %3, %9 : tensor<f32>
  %11 = lax.reduce_sum %8 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %12 = lax.broadcast_in_dim %10 dims [] : tensor<f32> -> tensor<4xf32>
  %13 = lax.div %11, %12 : tensor<4xf32>
  %14 = lax.constant dense<0.000000e+00> : tensor<f32>
  %15 = lax.gt %10, %14 : (tensor<f32>, tensor<f32>) -> tensor<i1>
  %16 = lax.constant dense<"0x0000C07F"> : tensor<f32>
  %17 = lax.broadcast_in_dim %16 dims [] : tensor<f32> -> tensor<4xf32>
  %18 = lax.select_n %15, %17, %13 : (tensor<i1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %18 : tensor<4xf32>
}
// CHECK-LABEL: func.func @var(%x: tensor<4x8xf32>) -> tensor<4xf32> {
// CHECK-NEXT:    %0 = array.var %x axes [1] ddof 1 : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    func.return %0 : tensor<4xf32>

// jnp.var over all axes, keepdims: the var, then a broadcast to the unit dims.
func.func @var_keepdims(%x: tensor<4x8xf32>) -> tensor<1x1xf32> {
  %0 = lax.constant dense<0> : tensor<i32>
  %1 = lax.reduce_sum %x axes [0, 1] : tensor<4x8xf32> -> tensor<f32>
  %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<1x1xf32>
  %3 = lax.constant dense<3.200000e+01> : tensor<f32>
  %4 = lax.broadcast_in_dim %3 dims [] : tensor<f32> -> tensor<1x1xf32>
  %5 = lax.div %2, %4 : tensor<1x1xf32>
  %6 = lax.broadcast_in_dim %5 dims [0, 1] : tensor<1x1xf32> -> tensor<4x8xf32>
  %7 = lax.sub %x, %6 : tensor<4x8xf32>
  %8 = lax.square %7 : tensor<4x8xf32>
  %9 = lax.convert_element_type %0 : tensor<i32> -> tensor<f32>
  %10 = lax.sub %3, %9 : tensor<f32>
  %11 = lax.reduce_sum %8 axes [0, 1] : tensor<4x8xf32> -> tensor<f32>
  %12 = lax.broadcast_in_dim %11 dims [] : tensor<f32> -> tensor<1x1xf32>
  %13 = lax.broadcast_in_dim %10 dims [] : tensor<f32> -> tensor<1x1xf32>
  %14 = lax.div %12, %13 : tensor<1x1xf32>
  %15 = lax.constant dense<0.000000e+00> : tensor<f32>
  %16 = lax.gt %10, %15 : (tensor<f32>, tensor<f32>) -> tensor<i1>
  %17 = lax.constant dense<"0x0000C07F"> : tensor<f32>
  %18 = lax.broadcast_in_dim %17 dims [] : tensor<f32> -> tensor<1x1xf32>
  %19 = lax.select_n %16, %18, %14 : (tensor<i1>, tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1xf32>
  func.return %19 : tensor<1x1xf32>
}
// CHECK-LABEL: func.func @var_keepdims(%x: tensor<4x8xf32>) -> tensor<1x1xf32> {
// CHECK-NEXT:    %0 = array.var %x axes [0, 1] ddof 0 : tensor<4x8xf32> -> tensor<f32>
// CHECK-NEXT:    %1 = lax.broadcast_in_dim %0 dims [] : tensor<f32> -> tensor<1x1xf32>
// CHECK-NEXT:    func.return %1 : tensor<1x1xf32>

// Layer norm written out: (x - mean) / sqrt(var + eps) * g + b, after cse (x - mean shared).
func.func @layer_norm(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = lax.reduce_sum %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %1 = lax.broadcast_in_dim %0 dims [0] : tensor<4xf32> -> tensor<4x1xf32>
  %2 = lax.constant dense<8.000000e+00> : tensor<f32>
  %3 = lax.broadcast_in_dim %2 dims [] : tensor<f32> -> tensor<4x1xf32>
  %4 = lax.div %1, %3 : tensor<4x1xf32>
  %5 = lax.constant dense<0> : tensor<i32>
  %6 = lax.broadcast_in_dim %4 dims [0, 1] : tensor<4x1xf32> -> tensor<4x8xf32>
  %7 = lax.sub %x, %6 : tensor<4x8xf32>
  %8 = lax.square %7 : tensor<4x8xf32>
  %9 = lax.convert_element_type %5 : tensor<i32> -> tensor<f32>
  %10 = lax.sub %2, %9 : tensor<f32>
  %11 = lax.reduce_sum %8 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %12 = lax.broadcast_in_dim %11 dims [0] : tensor<4xf32> -> tensor<4x1xf32>
  %13 = lax.broadcast_in_dim %10 dims [] : tensor<f32> -> tensor<4x1xf32>
  %14 = lax.div %12, %13 : tensor<4x1xf32>
  %15 = lax.constant dense<0.000000e+00> : tensor<f32>
  %16 = lax.gt %10, %15 : (tensor<f32>, tensor<f32>) -> tensor<i1>
  %17 = lax.constant dense<"0x0000C07F"> : tensor<f32>
  %18 = lax.broadcast_in_dim %17 dims [] : tensor<f32> -> tensor<4x1xf32>
  %19 = lax.select_n %16, %18, %14 : (tensor<i1>, tensor<4x1xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  %20 = lax.constant dense<1.000000e-05> : tensor<f32>
  %21 = lax.broadcast_in_dim %20 dims [] : tensor<f32> -> tensor<4x1xf32>
  %22 = lax.add %19, %21 : tensor<4x1xf32>
  %23 = lax.sqrt %22 : tensor<4x1xf32>
  %24 = lax.broadcast_in_dim %23 dims [0, 1] : tensor<4x1xf32> -> tensor<4x8xf32>
  %25 = lax.div %7, %24 : tensor<4x8xf32>
  %26 = lax.broadcast_in_dim %g dims [1] : tensor<8xf32> -> tensor<4x8xf32>
  %27 = lax.mul %25, %26 : tensor<4x8xf32>
  %28 = lax.broadcast_in_dim %b dims [1] : tensor<8xf32> -> tensor<4x8xf32>
  %29 = lax.add %27, %28 : tensor<4x8xf32>
  func.return %29 : tensor<4x8xf32>
}
// CHECK-LABEL: func.func @layer_norm(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    %0 = array.layer_norm %x, %g, %b axis 1 epsilon 9.9999997473787516e-06 : f64 : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT:    func.return %0 : tensor<4x8xf32>

// RMS norm with rsqrt: x * rsqrt(mean(square(x)) + eps) * g.
func.func @rms_norm(%x: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = lax.square %x : tensor<4x8xf32>
  %1 = lax.reduce_sum %0 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %2 = lax.broadcast_in_dim %1 dims [0] : tensor<4xf32> -> tensor<4x1xf32>
  %3 = lax.constant dense<8.000000e+00> : tensor<f32>
  %4 = lax.broadcast_in_dim %3 dims [] : tensor<f32> -> tensor<4x1xf32>
  %5 = lax.div %2, %4 : tensor<4x1xf32>
  %6 = lax.constant dense<1.000000e-06> : tensor<f32>
  %7 = lax.broadcast_in_dim %6 dims [] : tensor<f32> -> tensor<4x1xf32>
  %8 = lax.add %5, %7 : tensor<4x1xf32>
  %9 = lax.rsqrt %8 : tensor<4x1xf32>
  %10 = lax.broadcast_in_dim %9 dims [0, 1] : tensor<4x1xf32> -> tensor<4x8xf32>
  %11 = lax.mul %x, %10 : tensor<4x8xf32>
  %12 = lax.broadcast_in_dim %g dims [1] : tensor<8xf32> -> tensor<4x8xf32>
  %13 = lax.mul %11, %12 : tensor<4x8xf32>
  func.return %13 : tensor<4x8xf32>
}
// CHECK-LABEL: func.func @rms_norm(%x: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    %0 = array.rms_norm %x, %g axis 1 epsilon 9.9999999747524271e-07 : f64 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT:    func.return %0 : tensor<4x8xf32>

// jnp.matmul with an unbatched rhs.
func.func @matmul(%a: tensor<2x4x8xf32>, %b: tensor<8x3xf32>) -> tensor<2x4x3xf32> {
  %0 = lax.dot_general %a, %b lhs_contracting [2] rhs_contracting [0] lhs_batch [] rhs_batch [] : (tensor<2x4x8xf32>, tensor<8x3xf32>) -> tensor<2x4x3xf32>
  func.return %0 : tensor<2x4x3xf32>
}
// CHECK-LABEL: func.func @matmul(%a: tensor<2x4x8xf32>, %b: tensor<8x3xf32>) -> tensor<2x4x3xf32> {
// CHECK-NEXT:    %0 = array.matmul %a, %b : (tensor<2x4x8xf32>, tensor<8x3xf32>) -> tensor<2x4x3xf32>
// CHECK-NEXT:    func.return %0 : tensor<2x4x3xf32>

// softmax(einsum(q, k) * c) @ v: scaled dot-product attention.
func.func @attention(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x5xf32>) -> tensor<2x4x5xf32> {
  %0 = lax.dot_general %q, %k lhs_contracting [2] rhs_contracting [2] lhs_batch [0] rhs_batch [0] : (tensor<2x4x8xf32>, tensor<2x6x8xf32>) -> tensor<2x4x6xf32>
  %1 = lax.constant dense<1.250000e-01> : tensor<f32>
  %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<2x4x6xf32>
  %3 = lax.mul %0, %2 : tensor<2x4x6xf32>
  %4 = lax.reduce_max %3 axes [2] : tensor<2x4x6xf32> -> tensor<2x4xf32>
  %5 = lax.constant dense<"0x000080FF"> : tensor<f32>
  %6 = lax.broadcast_in_dim %5 dims [] : tensor<f32> -> tensor<2x4xf32>
  %7 = lax.max %4, %6 : tensor<2x4xf32>
  %8 = lax.broadcast_in_dim %7 dims [0, 1] : tensor<2x4xf32> -> tensor<2x4x6xf32>
  %9 = lax.sub %3, %8 : tensor<2x4x6xf32>
  %10 = lax.exp %9 : tensor<2x4x6xf32>
  %11 = lax.reduce_sum %10 axes [2] : tensor<2x4x6xf32> -> tensor<2x4xf32>
  %12 = lax.broadcast_in_dim %11 dims [0, 1] : tensor<2x4xf32> -> tensor<2x4x6xf32>
  %13 = lax.div %10, %12 : tensor<2x4x6xf32>
  %14 = lax.dot_general %13, %v lhs_contracting [2] rhs_contracting [1] lhs_batch [0] rhs_batch [0] : (tensor<2x4x6xf32>, tensor<2x6x5xf32>) -> tensor<2x4x5xf32>
  func.return %14 : tensor<2x4x5xf32>
}
// CHECK-LABEL: func.func @attention(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x5xf32>) -> tensor<2x4x5xf32> {
// CHECK-NEXT:    %0 = array.attention %q, %k, %v scale 1.250000e-01 : f64 : (tensor<2x4x8xf32>, tensor<2x6x8xf32>, tensor<2x6x5xf32>) -> tensor<2x4x5xf32>
// CHECK-NEXT:    func.return %0 : tensor<2x4x5xf32>

// The exp also leaves the function: softmax is not raised (its ops stay as they are).
func.func @softmax_exp_escapes(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = lax.reduce_max %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %1 = lax.broadcast_in_dim %0 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
  %2 = lax.sub %x, %1 : tensor<4x8xf32>
  %3 = lax.exp %2 : tensor<4x8xf32>
  %4 = lax.reduce_sum %3 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %5 = lax.broadcast_in_dim %4 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
  %6 = lax.div %3, %5 : tensor<4x8xf32>
  func.return %6, %3 : tensor<4x8xf32>, tensor<4x8xf32>
}
// CHECK-LABEL: func.func @softmax_exp_escapes(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
// CHECK-NEXT:    %0 = lax.reduce_max %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    %1 = lax.broadcast_in_dim %0 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %2 = lax.sub %x, %1 : tensor<4x8xf32>
// CHECK-NEXT:    %3 = lax.exp %2 : tensor<4x8xf32>
// CHECK-NEXT:    %4 = lax.reduce_sum %3 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    %5 = lax.broadcast_in_dim %4 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %6 = lax.div %3, %5 : tensor<4x8xf32>
// CHECK-NEXT:    func.return %6, %3 : tensor<4x8xf32>, tensor<4x8xf32>

// Without the `max(..., -inf)` of jnp.max(initial=-inf) (a hand-written softmax) and with
// the logistic first: both raised.
func.func @operand_orders(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = lax.reduce_max %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %1 = lax.broadcast_in_dim %0 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
  %2 = lax.sub %x, %1 : tensor<4x8xf32>
  %3 = lax.exp %2 : tensor<4x8xf32>
  %4 = lax.reduce_sum %3 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %5 = lax.broadcast_in_dim %4 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
  %6 = lax.div %3, %5 : tensor<4x8xf32>
  %7 = lax.logistic %x : tensor<4x8xf32>
  %8 = lax.mul %7, %x : tensor<4x8xf32>
  func.return %6, %8 : tensor<4x8xf32>, tensor<4x8xf32>
}
// CHECK-LABEL: func.func @operand_orders(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
// CHECK-NEXT:    %0 = array.softmax %x axis 1 : tensor<4x8xf32>
// CHECK-NEXT:    %1 = array.silu %x : tensor<4x8xf32>
// CHECK-NEXT:    func.return %0, %1 : tensor<4x8xf32>, tensor<4x8xf32>

// max(x, -0.0) is not relu (they differ at zero); a sum over 8 divided by 7 is no mean.
func.func @near_misses(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>) {
  %0 = lax.constant dense<-0.0> : tensor<f32>
  %1 = lax.broadcast_in_dim %0 dims [] : tensor<f32> -> tensor<4x8xf32>
  %2 = lax.max %x, %1 : tensor<4x8xf32>
  %3 = lax.reduce_sum %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %4 = lax.constant dense<7.0> : tensor<f32>
  %5 = lax.broadcast_in_dim %4 dims [] : tensor<f32> -> tensor<4xf32>
  %6 = lax.div %3, %5 : tensor<4xf32>
  func.return %2, %6 : tensor<4x8xf32>, tensor<4xf32>
}
// CHECK-LABEL: func.func @near_misses(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>) {
// CHECK-NEXT:    %0 = lax.constant dense<-0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %1 = lax.broadcast_in_dim %0 dims [] : tensor<f32> -> tensor<4x8xf32>
// CHECK-NEXT:    %2 = lax.max %x, %1 : tensor<4x8xf32>
// CHECK-NEXT:    %3 = lax.reduce_sum %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    %4 = lax.constant dense<7.000000e+00> : tensor<f32>
// CHECK-NEXT:    %5 = lax.broadcast_in_dim %4 dims [] : tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:    %6 = lax.div %3, %5 : tensor<4xf32>
// CHECK-NEXT:    func.return %2, %6 : tensor<4x8xf32>, tensor<4xf32>

// The mean of a layer norm is used elsewhere: no layer_norm. The mean is raised on its own,
// and what is left, d / sqrt(mean(d^2) + eps) with d = x - mean, is an rms_norm of d.
func.func @layer_norm_shared_mean(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>) {
  %0 = lax.reduce_sum %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %1 = lax.constant dense<8.0> : tensor<f32>
  %2 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<4xf32>
  %3 = lax.div %0, %2 : tensor<4xf32>
  %4 = lax.broadcast_in_dim %3 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
  %5 = lax.sub %x, %4 : tensor<4x8xf32>
  %6 = lax.square %5 : tensor<4x8xf32>
  %7 = lax.reduce_sum %6 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %8 = lax.div %7, %2 : tensor<4xf32>
  %9 = lax.constant dense<1.0e-05> : tensor<f32>
  %10 = lax.broadcast_in_dim %9 dims [] : tensor<f32> -> tensor<4xf32>
  %11 = lax.add %8, %10 : tensor<4xf32>
  %12 = lax.sqrt %11 : tensor<4xf32>
  %13 = lax.broadcast_in_dim %12 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
  %14 = lax.div %5, %13 : tensor<4x8xf32>
  func.return %14, %3 : tensor<4x8xf32>, tensor<4xf32>
}
// CHECK-LABEL: func.func @layer_norm_shared_mean(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>) {
// CHECK-NEXT:    %0 = array.mean %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    %1 = lax.broadcast_in_dim %0 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %2 = lax.sub %x, %1 : tensor<4x8xf32>
// CHECK-NEXT:    %3 = array.rms_norm %2 axis 1 epsilon 9.9999997473787516e-06 : f64 : tensor<4x8xf32>
// CHECK-NEXT:    func.return %3, %0 : tensor<4x8xf32>, tensor<4xf32>

// Not jnp.matmul's dot_generals: an explicit precision, a contraction of both last dims.
func.func @other_dots(%a: tensor<4x8xf32>, %b: tensor<8x3xf32>, %c: tensor<3x8xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  %0 = lax.dot_general %a, %b lhs_contracting [1] rhs_contracting [0] lhs_batch [] rhs_batch [] precision "highest" : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  %1 = lax.dot_general %a, %c lhs_contracting [1] rhs_contracting [1] lhs_batch [] rhs_batch [] : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  func.return %0, %1 : tensor<4x3xf32>, tensor<4x3xf32>
}
// CHECK-LABEL: func.func @other_dots(%a: tensor<4x8xf32>, %b: tensor<8x3xf32>, %c: tensor<3x8xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
// CHECK-NEXT:    %0 = lax.dot_general %a, %b lhs_contracting [1] rhs_contracting [0] lhs_batch [] rhs_batch [] precision "highest" : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    %1 = lax.dot_general %a, %c lhs_contracting [1] rhs_contracting [1] lhs_batch [] rhs_batch [] : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
// CHECK-NEXT:    func.return %0, %1 : tensor<4x3xf32>, tensor<4x3xf32>
