// RUN: tiers-opt %s -p fold-constants | filecheck %s

// Complex numbers fold only through ops whose numpy result is XLA's to the bit: moves, parts,
// negation, conj, componentwise sums, conversions, equality. Products, quotients and functions
// of complex numbers stay for XLA, whose formulas numpy does not reproduce.

// CHECK-LABEL: func.func @exact
func.func @exact() -> (tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>, tensor<2xf32>, tensor<2xcomplex<f32>>, tensor<2xi1>) {
  %a = lax.constant dense<[(1.5, -2.0), (0.25, 3.0)]> : tensor<2xcomplex<f32>>
  %b = lax.constant dense<[(0.5, 1.0), (-0.25, -3.0)]> : tensor<2xcomplex<f32>>
  %0 = lax.add %a, %b : tensor<2xcomplex<f32>>
  %1 = lax.conj %0 : tensor<2xcomplex<f32>>
  %2 = lax.imag %1 : tensor<2xcomplex<f32>> -> tensor<2xf32>
  %3 = lax.complex %2, %2 : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xcomplex<f32>>
  %4 = lax.eq %a, %b : (tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>) -> tensor<2xi1>
  func.return %0, %1, %2, %3, %4 : tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>, tensor<2xf32>, tensor<2xcomplex<f32>>, tensor<2xi1>
}
// CHECK:      %[[SUM:.*]] = lax.constant dense<[(2.000000e+00,-1.000000e+00), (0.000000e+00,0.000000e+00)]> : tensor<2xcomplex<f32>>
// CHECK-NEXT: %[[CONJ:.*]] = lax.constant dense<[(2.000000e+00,1.000000e+00), (0.000000e+00,-0.000000e+00)]> : tensor<2xcomplex<f32>>
// CHECK-NEXT: %[[IMAG:.*]] = lax.constant dense<[1.000000e+00, -0.000000e+00]> : tensor<2xf32>
// CHECK-NEXT: %[[PAIR:.*]] = lax.constant dense<[(1.000000e+00,1.000000e+00), (-0.000000e+00,-0.000000e+00)]> : tensor<2xcomplex<f32>>
// CHECK-NEXT: %[[EQ:.*]] = lax.constant dense<false> : tensor<2xi1>
// CHECK-NEXT: func.return %[[SUM]], %[[CONJ]], %[[IMAG]], %[[PAIR]], %[[EQ]]

// CHECK-LABEL: func.func @kept
func.func @kept() -> (tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>, tensor<2xf32>) {
  %a = lax.constant dense<[(1.5, -2.0), (0.25, 3.0)]> : tensor<2xcomplex<f32>>
  %0 = lax.mul %a, %a : tensor<2xcomplex<f32>>
  %1 = lax.div %a, %a : tensor<2xcomplex<f32>>
  %2 = lax.exp %a : tensor<2xcomplex<f32>>
  %3 = lax.abs %a : tensor<2xcomplex<f32>> -> tensor<2xf32>
  func.return %0, %1, %2, %3 : tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>, tensor<2xf32>
}
// CHECK:      lax.mul
// CHECK-NEXT: lax.div
// CHECK-NEXT: lax.exp
// CHECK-NEXT: lax.abs
