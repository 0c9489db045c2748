// Inf and NaN constants survive printing and parsing (xDSL 0.74 would misread them as integers).
// RUN: tiers-opt %s | tiers-opt | filecheck %s
// RUN: tiers-opt %s -o %t.mlir && tiers-run %t.mlir | filecheck %s --check-prefix=OUT

func.func @main() -> (tensor<2xf32>, tensor<f32>) {
  %0 = lax.constant dense<"0x0000807F000080FF"> : tensor<2xf32>
  %1 = lax.constant dense<"0x0000C07F"> : tensor<f32>
  func.return %0, %1 : tensor<2xf32>, tensor<f32>
}

// CHECK:      %0 = lax.constant dense<"0x0000807F000080FF"> : tensor<2xf32>
// CHECK-NEXT: %1 = lax.constant dense<"0x0000C07F"> : tensor<f32>
// OUT: array([ inf, -inf], dtype=float32)
// OUT-NEXT: array(nan, dtype=float32)
