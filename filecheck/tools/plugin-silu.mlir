// RUN: xdsl-opt %s -p silu-raise,dce | filecheck %s
// RUN: tiers-opt %s -p silu-raise,dce | filecheck %s
// RUN: tiers-opt %s -p silu-raise,dce | xdsl-opt -p silu-lower | filecheck %s --check-prefix=LOWER
// RUN: not tiers-opt %s -p silu-raise,silu-lower,needs-silu --load-plugin %S/../../tests/plugins/wrong_plugin.py 2>&1 | filecheck %s --check-prefix=ORDER

// The example plugin (examples/plugin, installed by `make test`) through its entry point:
// stock xdsl-opt and tiers-opt both find `silu-raise`, `silu-lower` and the `silu` dialect.

func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.logistic %x : tensor<4xf32>
  %1 = lax.mul %x, %0 : tensor<4xf32>
  func.return %1 : tensor<4xf32>
}

// CHECK-LABEL: func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
// CHECK-NEXT:    %0 = silu.silu %x : tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT:    func.return %0 : tensor<4xf32>

// LOWER-LABEL: func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
// LOWER-NEXT:    %0 = lax.logistic %x : tensor<4xf32>
// LOWER-NEXT:    %1 = lax.mul %x, %0 : tensor<4xf32>
// LOWER-NEXT:    func.return %1 : tensor<4xf32>

// ORDER: tiers-opt: error: pipeline 'silu-raise,silu-lower,needs-silu' cannot work: pass 'needs-silu' (position 3) requires 'silu' ops, but 'silu-lower' before it removes every 'silu' op; run 'needs-silu' before 'silu-lower'
