// RUN: tiers-opt %s | filecheck %s
// RUN: tiers-opt %s | tiers-opt | filecheck %s
// RUN: tiers-opt %s -t stablehlo | filecheck %s --check-prefix=HLO
// RUN: tiers-run %s -i "[1.3, 500, -0.001, 3]" | filecheck %s --check-prefix=OUT
// RUN: tiers-run %s --entry matmul -i "[[1, 2, 3], [0.5, -1, 448]]" -i "[[1, 0], [0, 1], [2, 0.25]]" | filecheck %s --check-prefix=DOT

// JAX's float8 formats (`jnp.float8_e4m3fn`, ...) are MLIR's builtin types, as in StableHLO:
// f8E4M3FN, f8E5M2, f8E4M3FNUZ, f8E5M2FNUZ, f8E4M3B11FNUZ, f8E4M3, f8E3M4, f8E8M0FNU.
// Constants print their values as decimals (each float8 value has an exact short one), or
// their raw bytes when one is infinite or NaN; StableHLO gets the raw bytes.

// CHECK-LABEL: func.func @main(%x: tensor<4xf32>) -> (tensor<4xf8E4M3FN>, tensor<4xf32>)
func.func @main(%x: tensor<4xf32>) -> (tensor<4xf8E4M3FN>, tensor<4xf32>) {
  // CHECK-NEXT: %q = lax.convert_element_type %x : tensor<4xf32> -> tensor<4xf8E4M3FN>
  %q = lax.convert_element_type %x : tensor<4xf32> -> tensor<4xf8E4M3FN>
  // CHECK-NEXT: %s = lax.constant dense<[5.000000e-01, 2.000000e+00, -0.000000e+00, 4.480000e+02]> : tensor<4xf8E4M3FN>
  %s = lax.constant dense<[0.5, 2.0, -0.0, 448.0]> : tensor<4xf8E4M3FN>
  // CHECK-NEXT: %p = lax.mul %q, %s : tensor<4xf8E4M3FN>
  %p = lax.mul %q, %s : tensor<4xf8E4M3FN>
  // CHECK-NEXT: %w = lax.convert_element_type %p : tensor<4xf8E4M3FN> -> tensor<4xf32>
  %w = lax.convert_element_type %p : tensor<4xf8E4M3FN> -> tensor<4xf32>
  func.return %p, %w : tensor<4xf8E4M3FN>, tensor<4xf32>
}
// HLO:      "stablehlo.convert"(%arg1) : (tensor<4xf32>) -> (tensor<4xf8E4M3FN>)
// HLO-NEXT: "stablehlo.constant"() {value = dense<"0x3040807E"> : tensor<4xf8E4M3FN>}
// HLO-NEXT: "stablehlo.multiply"
// HLO-NEXT: "stablehlo.convert"({{.*}}) : (tensor<4xf8E4M3FN>) -> (tensor<4xf32>)
// 1.3 rounds to 1.25; 3 * 448 overflows f8E4M3FN, which has no infinity: NaN.
// OUT:      array([0.625, nan, 0, nan], dtype=dtype(float8_e4m3fn))
// OUT-NEXT: array([0.625,   nan, 0.   ,   nan], dtype=float32)

// CHECK-LABEL: func.func @formats
func.func @formats(%a: tensor<2xf8E5M2>, %b: tensor<2xf8E4M3FNUZ>, %c: tensor<2xf8E5M2FNUZ>, %d: tensor<2xf8E4M3B11FNUZ>, %e: tensor<2xf8E4M3>, %f: tensor<2xf8E3M4>, %g: tensor<2xf8E8M0FNU>) -> (tensor<2xf8E5M2>, tensor<2xf8E4M3FNUZ>, tensor<2xf8E8M0FNU>) {
  // CHECK-SAME: %c: tensor<2xf8E5M2FNUZ>, %d: tensor<2xf8E4M3B11FNUZ>, %e: tensor<2xf8E4M3>, %f: tensor<2xf8E3M4>, %g: tensor<2xf8E8M0FNU>
  // +inf and -inf of f8E5M2; the NaN of f8E4M3FNUZ (the bits of -0) and +0.
  // CHECK-NEXT: %inf = lax.constant dense<"0x7CFC"> : tensor<2xf8E5M2>
  %inf = lax.constant dense<"0x7CFC"> : tensor<2xf8E5M2>
  // CHECK-NEXT: %nan = lax.constant dense<"0x8000"> : tensor<2xf8E4M3FNUZ>
  %nan = lax.constant dense<"0x8000"> : tensor<2xf8E4M3FNUZ>
  %0 = lax.max %a, %inf : tensor<2xf8E5M2>
  %1 = lax.add %b, %nan : tensor<2xf8E4M3FNUZ>
  // CHECK: %scale = lax.constant dense<[1.000000e+00, 2.500000e-01]> : tensor<2xf8E8M0FNU>
  %scale = lax.constant dense<[1.0, 0.25]> : tensor<2xf8E8M0FNU>
  func.return %0, %1, %scale : tensor<2xf8E5M2>, tensor<2xf8E4M3FNUZ>, tensor<2xf8E8M0FNU>
}

// A float8 matmul accumulating in f32 (`preferred_element_type=jnp.float32`); operands of two
// float8 formats are multiplied as they are, as JAX's lowering does.
// CHECK-LABEL: func.func @matmul
func.func @matmul(%a: tensor<2x3xf8E4M3FN>, %b: tensor<3x2xf8E5M2>) -> tensor<2x2xf32> {
  // CHECK-NEXT: lax.dot_general %a, %b {{.*}} : (tensor<2x3xf8E4M3FN>, tensor<3x2xf8E5M2>) -> tensor<2x2xf32>
  %0 = lax.dot_general %a, %b lhs_contracting [1] rhs_contracting [0] lhs_batch [] rhs_batch [] : (tensor<2x3xf8E4M3FN>, tensor<3x2xf8E5M2>) -> tensor<2x2xf32>
  func.return %0 : tensor<2x2xf32>
}
// DOT:      array([[  7.  ,   2.75],
// DOT-NEXT:        [896.5 , 111.  ]], dtype=float32)
