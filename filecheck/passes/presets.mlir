// RUN: tiers-opt %s -p O0 | filecheck %s --check-prefix=O0
// RUN: tiers-opt %s -p O1 | filecheck %s --check-prefix=O1
// RUN: tiers-opt %s -p O2 | filecheck %s --check-prefix=O2
// RUN: tiers-opt %s -p default | filecheck %s --check-prefix=O2
// RUN: tiers-opt %s -p O2 --pass-statistics 2>&1 >/dev/null | filecheck %s --check-prefix=STATS

// The presets on one input. O0 = nothing; O1 = canonicalize,cse,dce (calls stay);
// O2 = default = inline, canonicalize, fold-constants, cse, dce, ..., fuse (passes/__init__.py).

func.func @main(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>) {
  %0 = func.call @scale(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = lax.neg %0 : tensor<4x8xf32>
  %2 = lax.neg %1 : tensor<4x8xf32>
  %3 = lax.exp %2 : tensor<4x8xf32>
  %4 = lax.exp %2 : tensor<4x8xf32>
  %5 = lax.add %3, %4 : tensor<4x8xf32>
  %6 = lax.tanh %x : tensor<4x8xf32>
  %7 = lax.reduce_sum %5 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  func.return %5, %7 : tensor<4x8xf32>, tensor<4xf32>
}
func.func private @scale(%a: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %c = lax.constant dense<3.0> : tensor<f32>
  %one = lax.constant dense<1.0> : tensor<f32>
  %d = lax.sub %c, %one : tensor<f32>
  %b = lax.broadcast_in_dim %d dims [] : tensor<f32> -> tensor<4x8xf32>
  %0 = lax.mul %a, %b : tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}

// O0:      func.func @main
// O0-NEXT:   %0 = func.call @scale(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32>
// O0-NEXT:   %1 = lax.neg %0 : tensor<4x8xf32>
// O0-NEXT:   %2 = lax.neg %1 : tensor<4x8xf32>
// O0-NEXT:   %3 = lax.exp %2 : tensor<4x8xf32>
// O0-NEXT:   %4 = lax.exp %2 : tensor<4x8xf32>
// O0-NEXT:   %5 = lax.add %3, %4 : tensor<4x8xf32>
// O0-NEXT:   %6 = lax.tanh %x : tensor<4x8xf32>
// O0:      func.func private @scale

// With O1, neg(neg(y)) becomes y, the two exps merge, the unused tanh goes; the call and
// its callee stay.
// O1:      func.func @main
// O1-NEXT:   %0 = func.call @scale(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32>
// O1-NEXT:   %1 = lax.exp %0 : tensor<4x8xf32>
// O1-NEXT:   %2 = lax.add %1, %1 : tensor<4x8xf32>
// O1-NEXT:   %3 = lax.reduce_sum %2 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// O1-NEXT:   func.return %2, %3 : tensor<4x8xf32>, tensor<4xf32>
// O1-NEXT: }
// O1-NEXT: func.func private @scale
// O1-NEXT:   %c = lax.constant dense<3.000000e+00> : tensor<f32>
// O1-NEXT:   %one = lax.constant dense<1.000000e+00> : tensor<f32>
// O1-NEXT:   %d = lax.sub %c, %one : tensor<f32>

// With O2 it is also inlined (the private callee goes), 3 - 1 is folded and broadcast into
// a splat, and what is left is one kernel with two results.
// O2:      func.func @main
// O2-NEXT:   %0, %1 = fused.kernel(%x) : (tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>) {
// O2-NEXT:   ^bb0(%2: tensor<4x8xf32>):
// O2-NEXT:     %b = lax.constant dense<2.000000e+00> : tensor<4x8xf32>
// O2-NEXT:     %3 = lax.mul {{%2, %b|%b, %2}} : tensor<4x8xf32>
// O2-NEXT:     %4 = lax.exp %3 : tensor<4x8xf32>
// O2-NEXT:     %5 = lax.add %4, %4 : tensor<4x8xf32>
// O2-NEXT:     %6 = lax.reduce_sum %5 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// O2-NEXT:     fused.yield %5, %6 : tensor<4x8xf32>, tensor<4xf32>
// O2-NEXT:   }
// O2-NEXT:   func.return %0, %1 : tensor<4x8xf32>, tensor<4xf32>
// O2-NEXT: }
// O2-NEXT: }
// O2-NOT:  func.func

// STATS:      'inline'
// STATS-NEXT:   (ops erased) 3
// STATS-NEXT: 'canonicalize'
// STATS-NEXT:   (Involution) 1
// STATS:        (ops erased) 3
// STATS-NEXT: 'fold-constants'
// STATS-NEXT:   (ops folded) 2
// STATS-NEXT: 'cse'
// STATS-NEXT:   (ops erased) 4
// STATS-NEXT: 'fuse'
// STATS-NEXT:   (kernels) 1
// STATS-NEXT:   (ops added) {{[0-9]+}}
// STATS-NEXT:   (ops fused) 4
