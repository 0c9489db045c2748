// RUN: tiers-opt %s -p cse,dce | filecheck %s
// RUN: tiers-opt %s -p fuse | filecheck %s --check-prefix=FUSE

// Regions read values from above, so `cse` reuses an outer constant inside a loop body and
// then merges two equal loops; `dce` drops a loop whose results are unused (the ops are pure
// when their bodies are).

func.func @loops(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %one = lax.constant dense<1.000000e+00> : tensor<4xf32>
  %a = lax.scan (%x) xs () length 3 reverse false unroll 1 : tensor<4xf32> -> tensor<4xf32> {
  ^bb0(%c: tensor<4xf32>):
    %inner = lax.constant dense<1.000000e+00> : tensor<4xf32>
    %d = lax.add %c, %inner : tensor<4xf32>
    lax.yield %d : tensor<4xf32>
  }
  %b = lax.scan (%x) xs () length 3 reverse false unroll 1 : tensor<4xf32> -> tensor<4xf32> {
  ^bb0(%c: tensor<4xf32>):
    %inner = lax.constant dense<1.000000e+00> : tensor<4xf32>
    %d = lax.add %c, %inner : tensor<4xf32>
    lax.yield %d : tensor<4xf32>
  }
  %dead = lax.while (%x) : tensor<4xf32> cond {
  ^bb0(%c: tensor<4xf32>):
    %t = lax.constant dense<true> : tensor<i1>
    lax.yield %t : tensor<i1>
  } do {
  ^bb0(%c: tensor<4xf32>):
    lax.yield %c : tensor<4xf32>
  }
  %s = lax.add %a, %one : tensor<4xf32>
  func.return %s, %b : tensor<4xf32>, tensor<4xf32>
}
// CHECK-LABEL: func.func @loops
// CHECK-NEXT:    %one = lax.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    %a = lax.scan (%x) xs () length 3 reverse false unroll 1 : tensor<4xf32> -> tensor<4xf32> {
// CHECK-NEXT:    ^bb0(%c: tensor<4xf32>):
// CHECK-NEXT:      %d = lax.add %c, %one : tensor<4xf32>
// CHECK-NEXT:      lax.yield %d : tensor<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %s = lax.add %a, %one : tensor<4xf32>
// CHECK-NEXT:    func.return %s, %a : tensor<4xf32>, tensor<4xf32>

// `fuse` groups ops within one block: the chain inside the body becomes a kernel there, its
// outer input (%w) an operand; the loop itself is never a member of a kernel.
func.func @fuse_in_body(%x: tensor<4xf32>, %w: tensor<4xf32>) -> tensor<4xf32> {
  %r = lax.scan (%x) xs () length 2 reverse false unroll 1 : tensor<4xf32> -> tensor<4xf32> {
  ^bb0(%c: tensor<4xf32>):
    %m = lax.mul %c, %w : tensor<4xf32>
    %e = lax.tanh %m : tensor<4xf32>
    lax.yield %e : tensor<4xf32>
  }
  %o = lax.exp %r : tensor<4xf32>
  func.return %o : tensor<4xf32>
}
// FUSE-LABEL: func.func @fuse_in_body
// FUSE-NEXT:    %r = lax.scan (%x) xs () length 2 reverse false unroll 1 : tensor<4xf32> -> tensor<4xf32> {
// FUSE-NEXT:    ^bb0(%c: tensor<4xf32>):
// FUSE-NEXT:      %e = fused.kernel(%c, %w) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
// FUSE-NEXT:      ^bb0(%0: tensor<4xf32>, %1: tensor<4xf32>):
// FUSE-NEXT:        %m = lax.mul %0, %1 : tensor<4xf32>
// FUSE-NEXT:        %e_1 = lax.tanh %m : tensor<4xf32>
// FUSE-NEXT:        fused.yield %e_1 : tensor<4xf32>
// FUSE-NEXT:      }
// FUSE-NEXT:      lax.yield %e : tensor<4xf32>
// FUSE-NEXT:    }
// FUSE-NEXT:    %o = lax.exp %r : tensor<4xf32>
