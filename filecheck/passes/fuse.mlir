// RUN: tiers-opt %s -p fuse | filecheck %s
// RUN: tiers-opt %s -p "fuse{max-ops=3}" | filecheck %s --check-prefix=MAX3
// RUN: tiers-opt %s -p "fuse{duplicate-cheap=false}" | filecheck %s --check-prefix=NODUP
// RUN: tiers-opt %s -p fuse --pass-statistics 2>&1 >/dev/null | filecheck %s --check-prefix=STATS

// `fuse` groups elementwise chains, elementwise producers into a reduction (which ends the
// group) and broadcasts into their consumers as `fused.kernel` regions, placed at the group's
// last op. Values used outside the group become kernel results (several if need be).

// CHECK-LABEL: func.func @chain
func.func @chain(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = lax.add %x, %y : tensor<4x8xf32>
  %1 = lax.exp %0 : tensor<4x8xf32>
  %2 = lax.mul %1, %x : tensor<4x8xf32>
  func.return %2 : tensor<4x8xf32>
}
// CHECK-NEXT:    %0 = fused.kernel(%x, %y) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    ^bb0(%1: tensor<4x8xf32>, %2: tensor<4x8xf32>):
// CHECK-NEXT:      %3 = lax.add %1, %2 : tensor<4x8xf32>
// CHECK-NEXT:      %4 = lax.exp %3 : tensor<4x8xf32>
// CHECK-NEXT:      %5 = lax.mul %4, %1 : tensor<4x8xf32>
// CHECK-NEXT:      fused.yield %5 : tensor<4x8xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %0 : tensor<4x8xf32>

// Softmax: the first reduction has no elementwise producer and stays alone; broadcast, sub and
// exp fuse into the second reduction (exp is also a result, for the division); the last
// broadcast fuses into the division.
// CHECK-LABEL: func.func @softmax
func.func @softmax(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = lax.reduce_max %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %1 = lax.broadcast_in_dim %0 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
  %2 = lax.sub %x, %1 : tensor<4x8xf32>
  %3 = lax.exp %2 : tensor<4x8xf32>
  %4 = lax.reduce_sum %3 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %5 = lax.broadcast_in_dim %4 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
  %6 = lax.div %3, %5 : tensor<4x8xf32>
  func.return %6 : tensor<4x8xf32>
}
// CHECK-NEXT:    %0 = lax.reduce_max %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    %1, %2 = fused.kernel(%0, %x) : (tensor<4xf32>, tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>) {
// CHECK-NEXT:    ^bb0(%3: tensor<4xf32>, %4: tensor<4x8xf32>):
// CHECK-NEXT:      %5 = lax.broadcast_in_dim %3 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
// CHECK-NEXT:      %6 = lax.sub %4, %5 : tensor<4x8xf32>
// CHECK-NEXT:      %7 = lax.exp %6 : tensor<4x8xf32>
// CHECK-NEXT:      %8 = lax.reduce_sum %7 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:      fused.yield %7, %8 : tensor<4x8xf32>, tensor<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %3 = fused.kernel(%2, %1) : (tensor<4xf32>, tensor<4x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT:    ^bb0(%4: tensor<4xf32>, %5: tensor<4x8xf32>):
// CHECK-NEXT:      %6 = lax.broadcast_in_dim %4 dims [0] : tensor<4xf32> -> tensor<4x8xf32>
// CHECK-NEXT:      %7 = lax.div %5, %6 : tensor<4x8xf32>
// CHECK-NEXT:      fused.yield %7 : tensor<4x8xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %3 : tensor<4x8xf32>

// A small constant, and a broadcast of one, is cloned into every kernel that uses it instead
// of tying the kernels together (`duplicate-cheap`, on by default). With it off, the broadcast
// joins the first kernel and is one more result of it, fed to the second kernel.
// CHECK-LABEL: func.func @constants
// NODUP-LABEL: func.func @constants
func.func @constants(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %c = lax.constant dense<2.0> : tensor<f32>
  %b = lax.broadcast_in_dim %c dims [] : tensor<f32> -> tensor<4xf32>
  %0 = lax.mul %x, %b : tensor<4xf32>
  %1 = lax.exp %0 : tensor<4xf32>
  %2 = lax.dot_general %1, %1 lhs_contracting [0] rhs_contracting [0] lhs_batch [] rhs_batch [] : (tensor<4xf32>, tensor<4xf32>) -> tensor<f32>
  %3 = lax.broadcast_in_dim %2 dims [] : tensor<f32> -> tensor<4xf32>
  %4 = lax.add %3, %b : tensor<4xf32>
  %5 = lax.tanh %4 : tensor<4xf32>
  func.return %5, %1 : tensor<4xf32>, tensor<4xf32>
}
// CHECK-NEXT:    %0 = fused.kernel(%x) : (tensor<4xf32>) -> tensor<4xf32> {
// CHECK-NEXT:    ^bb0(%1: tensor<4xf32>):
// CHECK-NEXT:      %c = lax.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT:      %b = lax.broadcast_in_dim %c dims [] : tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:      %2 = lax.mul %1, %b : tensor<4xf32>
// CHECK-NEXT:      %3 = lax.exp %2 : tensor<4xf32>
// CHECK-NEXT:      fused.yield %3 : tensor<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %1 = lax.dot_general %0, %0
// CHECK-NEXT:    %2 = fused.kernel(%1) : (tensor<f32>) -> tensor<4xf32> {
// CHECK-NEXT:    ^bb0(%3: tensor<f32>):
// CHECK-NEXT:      %c = lax.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT:      %b = lax.broadcast_in_dim %c dims [] : tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:      %4 = lax.broadcast_in_dim %3 dims [] : tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:      %5 = lax.add %4, %b : tensor<4xf32>
// CHECK-NEXT:      %6 = lax.tanh %5 : tensor<4xf32>
// CHECK-NEXT:      fused.yield %6 : tensor<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %2, %0 : tensor<4xf32>, tensor<4xf32>
// NODUP-NEXT:    %c = lax.constant dense<2.000000e+00> : tensor<f32>
// NODUP-NEXT:    %b, %0 = fused.kernel(%c, %x) : (tensor<f32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
// NODUP-NEXT:    ^bb0(%1: tensor<f32>, %2: tensor<4xf32>):
// NODUP-NEXT:      %b_1 = lax.broadcast_in_dim %1 dims [] : tensor<f32> -> tensor<4xf32>
// NODUP-NEXT:      %3 = lax.mul %2, %b_1 : tensor<4xf32>
// NODUP-NEXT:      %4 = lax.exp %3 : tensor<4xf32>
// NODUP-NEXT:      fused.yield %b_1, %4 : tensor<4xf32>, tensor<4xf32>
// NODUP-NEXT:    }
// NODUP-NEXT:    %1 = lax.dot_general %0, %0
// NODUP-NEXT:    %2 = fused.kernel(%1, %b) : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32> {
// NODUP:           fused.yield

// One kernel, three results: exp, the add and the reduction are all used outside it.
// CHECK-LABEL: func.func @multi_output
func.func @multi_output(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<f32>) {
  %0 = lax.exp %x : tensor<4xf32>
  %1 = lax.sin %0 : tensor<4xf32>
  %2 = lax.cos %0 : tensor<4xf32>
  %3 = lax.add %1, %2 : tensor<4xf32>
  %4 = lax.reduce_sum %3 axes [0] : tensor<4xf32> -> tensor<f32>
  func.return %0, %3, %4 : tensor<4xf32>, tensor<4xf32>, tensor<f32>
}
// CHECK-NEXT:    %0, %1, %2 = fused.kernel(%x) : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<f32>) {
// CHECK-NEXT:    ^bb0(%3: tensor<4xf32>):
// CHECK-NEXT:      %4 = lax.exp %3 : tensor<4xf32>
// CHECK-NEXT:      %5 = lax.sin %4 : tensor<4xf32>
// CHECK-NEXT:      %6 = lax.cos %4 : tensor<4xf32>
// CHECK-NEXT:      %7 = lax.add %5, %6 : tensor<4xf32>
// CHECK-NEXT:      %8 = lax.reduce_sum %7 axes [0] : tensor<4xf32> -> tensor<f32>
// CHECK-NEXT:      fused.yield %4, %7, %8 : tensor<4xf32>, tensor<4xf32>, tensor<f32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<f32>

// A non-fusible op (transpose) in the middle of a chain splits it in two kernels.
// CHECK-LABEL: func.func @non_fusible_middle
func.func @non_fusible_middle(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = lax.exp %x : tensor<4x4xf32>
  %1 = lax.sin %0 : tensor<4x4xf32>
  %2 = lax.transpose %1 permutation [1, 0] : tensor<4x4xf32> -> tensor<4x4xf32>
  %3 = lax.cos %2 : tensor<4x4xf32>
  %4 = lax.tanh %3 : tensor<4x4xf32>
  func.return %4 : tensor<4x4xf32>
}
// CHECK-NEXT:    %0 = fused.kernel(%x) : (tensor<4x4xf32>) -> tensor<4x4xf32> {
// CHECK-NEXT:    ^bb0(%1: tensor<4x4xf32>):
// CHECK-NEXT:      %2 = lax.exp %1 : tensor<4x4xf32>
// CHECK-NEXT:      %3 = lax.sin %2 : tensor<4x4xf32>
// CHECK-NEXT:      fused.yield %3 : tensor<4x4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %1 = lax.transpose %0 permutation [1, 0] : tensor<4x4xf32>
// CHECK-NEXT:    %2 = fused.kernel(%1) : (tensor<4x4xf32>) -> tensor<4x4xf32> {
// CHECK-NEXT:    ^bb0(%3: tensor<4x4xf32>):
// CHECK-NEXT:      %4 = lax.cos %3 : tensor<4x4xf32>
// CHECK-NEXT:      %5 = lax.tanh %4 : tensor<4x4xf32>
// CHECK-NEXT:      fused.yield %5 : tensor<4x4xf32>
// CHECK-NEXT:    }

// An op with a region is never a member, and a value its region reads ends the group that
// makes it: exp stays before the scf.if that reads it (inside its region), and only the ops
// after it fuse. The region's own block is fused on its own.
// CHECK-LABEL: func.func @region_use
func.func @region_use(%x: tensor<4xf32>, %c: i1) -> tensor<4xf32> {
  %0 = lax.exp %x : tensor<4xf32>
  %r = scf.if %c -> (tensor<4xf32>) {
    %t = lax.neg %0 : tensor<4xf32>
    %u = lax.sin %t : tensor<4xf32>
    scf.yield %u : tensor<4xf32>
  } else {
    scf.yield %x : tensor<4xf32>
  }
  %1 = lax.sin %0 : tensor<4xf32>
  %2 = lax.add %1, %r : tensor<4xf32>
  func.return %2 : tensor<4xf32>
}
// CHECK-NEXT:    %0 = lax.exp %x : tensor<4xf32>
// CHECK-NEXT:    %r = scf.if %c -> (tensor<4xf32>) {
// CHECK-NEXT:      %u = fused.kernel(%0) : (tensor<4xf32>) -> tensor<4xf32> {
// CHECK-NEXT:      ^bb0(%1: tensor<4xf32>):
// CHECK-NEXT:        %t = lax.neg %1 : tensor<4xf32>
// CHECK-NEXT:        %u_1 = lax.sin %t : tensor<4xf32>
// CHECK-NEXT:        fused.yield %u_1 : tensor<4xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.yield %u : tensor<4xf32>
// CHECK-NEXT:    } else {
// CHECK-NEXT:      scf.yield %x : tensor<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %1 = fused.kernel(%0, %r) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
// CHECK-NEXT:    ^bb0(%2: tensor<4xf32>, %3: tensor<4xf32>):
// CHECK-NEXT:      %4 = lax.sin %2 : tensor<4xf32>
// CHECK-NEXT:      %5 = lax.add %4, %3 : tensor<4xf32>
// CHECK-NEXT:      fused.yield %5 : tensor<4xf32>
// CHECK-NEXT:    }

// An existing kernel (an op with a region) is not fused into, nor across.
// CHECK-LABEL: func.func @kernel_in_middle
func.func @kernel_in_middle(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.exp %x : tensor<4xf32>
  %1 = lax.sin %0 : tensor<4xf32>
  %2 = fused.kernel(%1) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %b = lax.neg %a : tensor<4xf32>
    fused.yield %b : tensor<4xf32>
  }
  %3 = lax.cos %2 : tensor<4xf32>
  %4 = lax.tanh %3 : tensor<4xf32>
  func.return %4 : tensor<4xf32>
}
// CHECK-NEXT:    %0 = fused.kernel(%x)
// CHECK-NEXT:    ^bb0(%1: tensor<4xf32>):
// CHECK-NEXT:      %2 = lax.exp %1 : tensor<4xf32>
// CHECK-NEXT:      %3 = lax.sin %2 : tensor<4xf32>
// CHECK-NEXT:      fused.yield %3 : tensor<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %1 = fused.kernel(%0)
// CHECK-NEXT:    ^bb0(%a: tensor<4xf32>):
// CHECK-NEXT:      %b = lax.neg %a : tensor<4xf32>
// CHECK-NEXT:      fused.yield %b : tensor<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %2 = fused.kernel(%1)
// CHECK-NEXT:    ^bb0(%3: tensor<4xf32>):
// CHECK-NEXT:      %4 = lax.cos %3 : tensor<4xf32>
// CHECK-NEXT:      %5 = lax.tanh %4 : tensor<4xf32>
// CHECK-NEXT:      fused.yield %5 : tensor<4xf32>
// CHECK-NEXT:    }

// `max-ops` bounds a kernel: a chain of 7 makes kernels of 3, 3 and 1 op (no kernel for it).
// MAX3-LABEL: func.func @long_chain
func.func @long_chain(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.exp %x : tensor<4xf32>
  %1 = lax.sin %0 : tensor<4xf32>
  %2 = lax.cos %1 : tensor<4xf32>
  %3 = lax.tanh %2 : tensor<4xf32>
  %4 = lax.exp %3 : tensor<4xf32>
  %5 = lax.sin %4 : tensor<4xf32>
  %6 = lax.cos %5 : tensor<4xf32>
  func.return %6 : tensor<4xf32>
}
// MAX3-NEXT:    %0 = fused.kernel(%x)
// MAX3-NEXT:    ^bb0(%1: tensor<4xf32>):
// MAX3-NEXT:      %2 = lax.exp %1 : tensor<4xf32>
// MAX3-NEXT:      %3 = lax.sin %2 : tensor<4xf32>
// MAX3-NEXT:      %4 = lax.cos %3 : tensor<4xf32>
// MAX3-NEXT:      fused.yield %4 : tensor<4xf32>
// MAX3-NEXT:    }
// MAX3-NEXT:    %1 = fused.kernel(%0)
// MAX3-NEXT:    ^bb0(%2: tensor<4xf32>):
// MAX3-NEXT:      %3 = lax.tanh %2 : tensor<4xf32>
// MAX3-NEXT:      %4 = lax.exp %3 : tensor<4xf32>
// MAX3-NEXT:      %5 = lax.sin %4 : tensor<4xf32>
// MAX3-NEXT:      fused.yield %5 : tensor<4xf32>
// MAX3-NEXT:    }
// MAX3-NEXT:    %2 = lax.cos %1 : tensor<4xf32>
// MAX3-NEXT:    func.return %2 : tensor<4xf32>

// STATS:      'fuse'
// STATS-NEXT:   (kernels) 13
// STATS-NEXT:   (ops added) {{[0-9]+}}
// STATS-NEXT:   (ops fused) 38
