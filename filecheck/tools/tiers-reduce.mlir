// RUN: tiers-reduce %s --test grep --test-arg=-q --test-arg lax.atan2 2>%t.err | filecheck %s
// RUN: filecheck %s --check-prefix=SUMMARY < %t.err
// RUN: echo 'grep -q "lax.atan2" "$1"' > %t.sh
// RUN: chmod +x %t.sh
// RUN: tiers-reduce %s --test %t.sh -o %t.mlir
// RUN: filecheck %s < %t.mlir
// RUN: not tiers-reduce %s --test false 2>&1 | filecheck %s --check-prefix=UNINTERESTING

// A script gets the candidate's path (a script without `#!` runs in /bin/sh); `--test-arg`
// puts arguments before it, as mlir-reduce's `-test-arg`.
// `tiers-reduce` deletes ops (uses take an operand, an argument or a constant), inlines
// regions (the cond becomes its first branch, the fused kernel its ops), removes unused
// arguments and the results, while the test (here: grep finds lax.atan2) still exits 0.

func.func @main(%x: tensor<4xf32>, %i: tensor<i32>, %unused: tensor<2xi32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = lax.exp %x : tensor<4xf32>
  %r = lax.cond %i : tensor<i32> -> tensor<4xf32> {
    %a = lax.atan2 %0, %x : tensor<4xf32>
    lax.yield %a : tensor<4xf32>
  }, {
    lax.yield %x : tensor<4xf32>
  }
  %k = fused.kernel(%r, %0) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%p: tensor<4xf32>, %q: tensor<4xf32>):
    %m = lax.mul %p, %q : tensor<4xf32>
    fused.yield %m : tensor<4xf32>
  }
  func.return %k, %0 : tensor<4xf32>, tensor<4xf32>
}
func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.tanh %x : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT:   func.func @main(%x: tensor<4xf32>) {
// CHECK-NEXT:     %a = lax.atan2 %x, %x : tensor<4xf32>
// CHECK-NEXT:     func.return
// CHECK-NEXT:   }
// CHECK-NEXT: }

// SUMMARY: tiers-reduce: 13 -> 3 ops, {{[0-9]+}} tests, {{.*}} s

// UNINTERESTING: tiers-reduce: error: the test does not exit 0 on '{{.*}}tiers-reduce.mlir' (exit code 1): it must exit 0 while the failure shows
