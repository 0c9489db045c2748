// RUN: xdsl-opt %s | filecheck %s
// RUN: xdsl-opt %s | xdsl-opt | filecheck %s
// RUN: xdsl-opt %s -p inline | filecheck %s --check-prefix=INLINE

// Stock xdsl-opt knows the `lax` dialect and the `inline` pass through tiers' entry point in
// the `xdsl.universe` group: nothing but `pip install tiers` is needed.

func.func @main(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = func.call @helper(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = lax.reduce_sum %0 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  func.return %1 : tensor<4xf32>
}
func.func private @helper(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = lax.exp %x : tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @main(%x: tensor<4x8xf32>) -> tensor<4xf32> {
// CHECK-NEXT:    %0 = func.call @helper(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK-NEXT:    %1 = lax.reduce_sum %0 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK:       func.func private @helper
// CHECK-NEXT:    %0 = lax.exp %x : tensor<4x8xf32>

// INLINE-LABEL: func.func @main(%x: tensor<4x8xf32>) -> tensor<4xf32> {
// INLINE-NEXT:    %0 = lax.exp %x : tensor<4x8xf32>
// INLINE-NEXT:    %1 = lax.reduce_sum %0 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// INLINE-NEXT:    func.return %1 : tensor<4xf32>
// INLINE-NEXT:  }
// INLINE-NEXT: }
