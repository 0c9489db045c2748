// RUN: tiers-opt %s -p fold-constants | filecheck %s

// float8 results fold only where data moves. XLA computes float8 arithmetic in a wider format,
// may keep it there across a fused chain and rounds reductions step by step, so a folded number
// could differ from XLA's: arithmetic, conversions and reductions into float8 stay. Results of
// other types fold as before (here an exact comparison of float8 constants).

// CHECK-LABEL: func.func @moves
func.func @moves() -> (tensor<2x2xf8E4M3FN>, tensor<3xf8E5M2>) {
  %a = lax.constant dense<[1.5, -2.0]> : tensor<2xf8E4M3FN>
  %0 = lax.broadcast_in_dim %a dims [1] : tensor<2xf8E4M3FN> -> tensor<2x2xf8E4M3FN>
  %1 = lax.transpose %0 permutation [1, 0] : tensor<2x2xf8E4M3FN> -> tensor<2x2xf8E4M3FN>
  %b = lax.constant dense<[0.25, 57344.0]> : tensor<2xf8E5M2>
  %c = lax.constant dense<"0x7C"> : tensor<1xf8E5M2>
  %2 = lax.concatenate %b, %c dimension 0 : (tensor<2xf8E5M2>, tensor<1xf8E5M2>) -> tensor<3xf8E5M2>
  func.return %1, %2 : tensor<2x2xf8E4M3FN>, tensor<3xf8E5M2>
}
// CHECK:      %[[T:.*]] = lax.constant dense<{{\[}}[1.500000e+00, 1.500000e+00], [-2.000000e+00, -2.000000e+00]]> : tensor<2x2xf8E4M3FN>
// CHECK:      %[[C:.*]] = lax.constant dense<"0x347B7C"> : tensor<3xf8E5M2>
// CHECK-NEXT: func.return %[[T]], %[[C]]

// CHECK-LABEL: func.func @kept
func.func @kept() -> (tensor<2xf8E4M3FN>, tensor<2xf8E4M3FN>, tensor<f8E4M3FN>, tensor<2xi1>, tensor<2xi1>) {
  %a = lax.constant dense<[1.5, 448.0]> : tensor<2xf8E4M3FN>
  %b = lax.constant dense<[0.3, 3.0]> : tensor<2xf32>
  %0 = lax.mul %a, %a : tensor<2xf8E4M3FN>
  %1 = lax.convert_element_type %b : tensor<2xf32> -> tensor<2xf8E4M3FN>
  %2 = lax.reduce_sum %a axes [0] : tensor<2xf8E4M3FN> -> tensor<f8E4M3FN>
  %3 = lax.lt %a, %1 : (tensor<2xf8E4M3FN>, tensor<2xf8E4M3FN>) -> tensor<2xi1>
  %4 = lax.gt %a, %a : (tensor<2xf8E4M3FN>, tensor<2xf8E4M3FN>) -> tensor<2xi1>
  func.return %0, %1, %2, %3, %4 : tensor<2xf8E4M3FN>, tensor<2xf8E4M3FN>, tensor<f8E4M3FN>, tensor<2xi1>, tensor<2xi1>
}
// CHECK:      lax.mul
// CHECK-NEXT: lax.convert_element_type
// CHECK-NEXT: lax.reduce_sum
// CHECK-NEXT: lax.lt
// CHECK-NEXT: %[[GT:.*]] = lax.constant dense<false> : tensor<2xi1>
