// RUN: tiers-opt %s -p canonicalize | filecheck %s
// RUN: tiers-opt %s -p canonicalize,cse | filecheck %s --check-prefix=CSE
// RUN: tiers-opt %s -p canonicalize --print-debuginfo | filecheck %s --check-prefix=LOC
// RUN: tiers-opt %s -p canonicalize,cse --pass-statistics 2>&1 >/dev/null | filecheck %s --check-prefix=STATS

// Every pattern of passes/canonicalization.py, and the near misses that must not fire because
// the rewrite would change a value: for floats, x + 0.0 turns -0.0 into 0.0, and x - x and
// x * 0 are NaN at Inf and NaN. (`canonicalize` also drops the ops left without users.)

// x + 0 -> x for integers (also through a broadcast splat, and for add_any); for floats only
// x + (-0.0) -> x.
// CHECK-LABEL: func.func @add_zero
func.func @add_zero(%x: tensor<4xf32>, %i: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xi32>, tensor<4xi32>) {
  %z = lax.constant dense<0.0> : tensor<4xf32>
  %nz = lax.constant dense<-0.0> : tensor<4xf32>
  %iz = lax.constant dense<0> : tensor<i32>
  %izb = lax.broadcast_in_dim %iz dims [] : tensor<i32> -> tensor<4xi32>
  %0 = lax.add %x, %z : tensor<4xf32>
  %1 = lax.add %nz, %x : tensor<4xf32>
  %2 = lax.add %i, %izb : tensor<4xi32>
  %3 = lax.add_any %izb, %i : tensor<4xi32>
  func.return %0, %1, %2, %3 : tensor<4xf32>, tensor<4xf32>, tensor<4xi32>, tensor<4xi32>
}
// CHECK-NEXT:    %z = lax.constant dense<0.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    %0 = lax.add %x, %z : tensor<4xf32>
// CHECK-NEXT:    func.return %0, %x, %i, %i : tensor<4xf32>, tensor<4xf32>, tensor<4xi32>, tensor<4xi32>
// CHECK-NEXT:  }

// x - 0.0 -> x (exact, -0.0 - 0.0 = -0.0) but not x - (-0.0) (that is x + 0.0); x - x -> 0 for
// integers only.
// CHECK-LABEL: func.func @sub
func.func @sub(%x: tensor<4xf32>, %i: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi32>) {
  %z = lax.constant dense<0.0> : tensor<4xf32>
  %nz = lax.constant dense<-0.0> : tensor<4xf32>
  %0 = lax.sub %x, %z : tensor<4xf32>
  %1 = lax.sub %x, %nz : tensor<4xf32>
  %2 = lax.sub %x, %x : tensor<4xf32>
  %3 = lax.sub %i, %i : tensor<4xi32>
  func.return %0, %1, %2, %3 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi32>
}
// CHECK-NEXT:    %nz = lax.constant dense<-0.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    %0 = lax.sub %x, %nz : tensor<4xf32>
// CHECK-NEXT:    %1 = lax.sub %x, %x : tensor<4xf32>
// CHECK-NEXT:    %2 = lax.constant dense<0> : tensor<i32>
// CHECK-NEXT:    %3 = lax.broadcast_in_dim %2 dims [] : tensor<i32> -> tensor<4xi32>
// CHECK-NEXT:    func.return %x, %0, %1, %3 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xi32>
// CHECK-NEXT:  }

// x * 1 -> x and x / 1 -> x (1 may be a broadcast scalar); x * 0 -> 0 for integers only.
// CHECK-LABEL: func.func @mul_div
func.func @mul_div(%x: tensor<4xf32>, %i: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xi32>, tensor<4xf32>, tensor<4xi32>) {
  %one = lax.constant dense<1.0> : tensor<f32>
  %ones = lax.broadcast_in_dim %one dims [] : tensor<f32> -> tensor<4xf32>
  %z = lax.constant dense<0.0> : tensor<4xf32>
  %iz = lax.constant dense<0> : tensor<4xi32>
  %ione = lax.constant dense<1> : tensor<4xi32>
  %0 = lax.mul %ones, %x : tensor<4xf32>
  %1 = lax.mul %x, %z : tensor<4xf32>
  %2 = lax.mul %iz, %i : tensor<4xi32>
  %3 = lax.div %x, %ones : tensor<4xf32>
  %4 = lax.div %i, %ione : tensor<4xi32>
  func.return %0, %1, %2, %3, %4 : tensor<4xf32>, tensor<4xf32>, tensor<4xi32>, tensor<4xf32>, tensor<4xi32>
}
// CHECK-NEXT:    %z = lax.constant dense<0.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    %0 = lax.mul %x, %z : tensor<4xf32>
// CHECK-NEXT:    %1 = lax.constant dense<0> : tensor<i32>
// CHECK-NEXT:    %2 = lax.broadcast_in_dim %1 dims [] : tensor<i32> -> tensor<4xi32>
// CHECK-NEXT:    func.return %x, %0, %2, %x, %i : tensor<4xf32>, tensor<4xf32>, tensor<4xi32>, tensor<4xf32>, tensor<4xi32>
// CHECK-NEXT:  }

// A division by a 1 that is not a splat stays.
// CHECK-LABEL: func.func @div_not_splat
func.func @div_not_splat(%x: tensor<2xf32>) -> tensor<2xf32> {
  %c = lax.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %0 = lax.div %x, %c : tensor<2xf32>
  func.return %0 : tensor<2xf32>
}
// CHECK-NEXT:    %c = lax.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-NEXT:    %0 = lax.div %x, %c : tensor<2xf32>
// CHECK-NEXT:    func.return %0 : tensor<2xf32>

// neg(neg(x)) -> x, not(not(x)) -> x; an odd number of negations leaves one.
// CHECK-LABEL: func.func @involution
func.func @involution(%x: tensor<4xf32>, %b: tensor<4xi1>) -> (tensor<4xf32>, tensor<4xi1>, tensor<4xf32>) {
  %0 = lax.neg %x : tensor<4xf32>
  %1 = lax.neg %0 : tensor<4xf32>
  %2 = lax.not %b : tensor<4xi1>
  %3 = lax.not %2 : tensor<4xi1>
  %4 = lax.neg %1 : tensor<4xf32>
  func.return %1, %3, %4 : tensor<4xf32>, tensor<4xi1>, tensor<4xf32>
}
// CHECK-NEXT:    %0 = lax.neg %x : tensor<4xf32>
// CHECK-NEXT:    func.return %x, %b, %0 : tensor<4xf32>, tensor<4xi1>, tensor<4xf32>
// CHECK-NEXT:  }

// copy(x) -> x, convert(x : T) -> x : T; a real conversion stays. stop_gradient is the
// identity on values only: it stays (once), so IR differentiated as written keeps its meaning.
// CHECK-LABEL: func.func @identity
func.func @identity(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf16>) {
  %s = lax.stop_gradient %x : tensor<4xf32>
  %0 = lax.stop_gradient %s : tensor<4xf32>
  %1 = lax.copy %0 : tensor<4xf32>
  %2 = lax.convert_element_type %1 : tensor<4xf32> -> tensor<4xf32>
  %3 = lax.convert_element_type %2 : tensor<4xf32> -> tensor<4xf16>
  func.return %2, %3 : tensor<4xf32>, tensor<4xf16>
}
// CHECK-NEXT:    %s = lax.stop_gradient %x : tensor<4xf32>
// CHECK-NEXT:    %0 = lax.convert_element_type %s : tensor<4xf32> -> tensor<4xf16>
// CHECK-NEXT:    func.return %s, %0 : tensor<4xf32>, tensor<4xf16>
// CHECK-NEXT:  }

// stop_gradient(broadcast(x)) -> broadcast(stop_gradient(x)) (same values, derivative 0), so
// the broadcasts around it meet; a broadcast with another user keeps its stop_gradient above.
// CHECK-LABEL: func.func @stop_gradient_inward
func.func @stop_gradient_inward(%m: tensor<4xf32>) -> (tensor<4x5xf32>, tensor<4x1xf32>, tensor<4x1xf32>) {
  %0 = lax.broadcast_in_dim %m dims [0] : tensor<4xf32> -> tensor<4x1xf32>
  %1 = lax.stop_gradient %0 : tensor<4x1xf32>
  %2 = lax.broadcast_in_dim %1 dims [0, 1] : tensor<4x1xf32> -> tensor<4x5xf32>
  %3 = lax.reshape %m : tensor<4xf32> -> tensor<4x1xf32>
  %4 = lax.stop_gradient %3 : tensor<4x1xf32>
  func.return %2, %4, %3 : tensor<4x5xf32>, tensor<4x1xf32>, tensor<4x1xf32>
}
// CHECK-NEXT:    %0 = lax.stop_gradient %m : tensor<4xf32>
// CHECK-NEXT:    %1 = lax.broadcast_in_dim %0 dims [0] : tensor<4xf32> -> tensor<4x5xf32>
// CHECK-NEXT:    %2 = lax.reshape %m : tensor<4xf32> -> tensor<4x1xf32>
// CHECK-NEXT:    %3 = lax.stop_gradient %2 : tensor<4x1xf32>
// CHECK-NEXT:    func.return %1, %3, %2 : tensor<4x5xf32>, tensor<4x1xf32>, tensor<4x1xf32>
// CHECK-NEXT:  }

// transpose(transpose(x, p1), p2) -> transpose(x, p1[p2]), or x when that is the identity;
// reshape(reshape(x)) -> reshape(x); reshape and broadcast to the same type -> x.
// CHECK-LABEL: func.func @shape_chains
func.func @shape_chains(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<3x4x2xf32>, tensor<24xf32>, tensor<2x3x4xf32>) {
  %0 = lax.transpose %x permutation [1, 0, 2] : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  %1 = lax.transpose %0 permutation [1, 0, 2] : tensor<3x2x4xf32> -> tensor<2x3x4xf32>
  %2 = lax.transpose %0 permutation [0, 2, 1] : tensor<3x2x4xf32> -> tensor<3x4x2xf32>
  %3 = lax.reshape %x : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %4 = lax.reshape %3 : tensor<6x4xf32> -> tensor<24xf32>
  %5 = lax.reshape %x : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  %6 = lax.broadcast_in_dim %x dims [0, 1, 2] : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  %7 = lax.transpose %x permutation [0, 1, 2] : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
  %8 = lax.mul %5, %6 : tensor<2x3x4xf32>
  %9 = lax.mul %8, %7 : tensor<2x3x4xf32>
  func.return %1, %2, %4, %9 : tensor<2x3x4xf32>, tensor<3x4x2xf32>, tensor<24xf32>, tensor<2x3x4xf32>
}
// CHECK-NEXT:    %0 = lax.transpose %x permutation [1, 2, 0] : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
// CHECK-NEXT:    %1 = lax.reshape %x : tensor<2x3x4xf32> -> tensor<24xf32>
// CHECK-NEXT:    %2 = lax.mul %x, %x : tensor<2x3x4xf32>
// CHECK-NEXT:    %3 = lax.mul {{%2, %x|%x, %2}} : tensor<2x3x4xf32>
// CHECK-NEXT:    func.return %x, %0, %1, %3 : tensor<2x3x4xf32>, tensor<3x4x2xf32>, tensor<24xf32>, tensor<2x3x4xf32>
// CHECK-NEXT:  }

// broadcast(broadcast(x, d1), d2) -> broadcast(x, d2[d1]); a real broadcast stays.
// CHECK-LABEL: func.func @broadcast_chain
func.func @broadcast_chain(%x: tensor<4xf32>) -> (tensor<2x3x4xf32>, tensor<3x4xf32>) {
  %0 = lax.broadcast_in_dim %x dims [1] : tensor<4xf32> -> tensor<3x4xf32>
  %1 = lax.broadcast_in_dim %0 dims [1, 2] : tensor<3x4xf32> -> tensor<2x3x4xf32>
  func.return %1, %0 : tensor<2x3x4xf32>, tensor<3x4xf32>
}
// CHECK-NEXT:    %0 = lax.broadcast_in_dim %x dims [1] : tensor<4xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %1 = lax.broadcast_in_dim %x dims [2] : tensor<4xf32> -> tensor<2x3x4xf32>
// CHECK-NEXT:    func.return %1, %0 : tensor<2x3x4xf32>, tensor<3x4xf32>
// CHECK-NEXT:  }

// slice(slice(x)) -> one slice (starts and strides composed); a slice taking everything -> x;
// an empty slice of a strided slice becomes x[0:0], not a start past the end of x.
// CHECK-LABEL: func.func @slices
func.func @slices(%x: tensor<16x8xf32>) -> (tensor<16x8xf32>, tensor<3x2xf32>, tensor<0x2xf32>) {
  %0 = lax.slice %x start_indices [0, 0] limit_indices [16, 8] strides [1, 1] : tensor<16x8xf32> -> tensor<16x8xf32>
  %1 = lax.slice %x start_indices [2, 1] limit_indices [14, 8] strides [2, 1] : tensor<16x8xf32> -> tensor<6x7xf32>
  %2 = lax.slice %1 start_indices [1, 2] limit_indices [6, 6] strides [2, 2] : tensor<6x7xf32> -> tensor<3x2xf32>
  %3 = lax.slice %1 start_indices [6, 2] limit_indices [6, 6] strides [1, 2] : tensor<6x7xf32> -> tensor<0x2xf32>
  func.return %0, %2, %3 : tensor<16x8xf32>, tensor<3x2xf32>, tensor<0x2xf32>
}
// CHECK-NEXT:    %0 = lax.slice %x start_indices [4, 3] limit_indices [13, 6] strides [4, 2] : tensor<16x8xf32> -> tensor<3x2xf32>
// CHECK-NEXT:    %1 = lax.slice %x start_indices [0, 3] limit_indices [0, 6] strides [1, 2] : tensor<16x8xf32> -> tensor<0x2xf32>
// CHECK-NEXT:    func.return %x, %0, %1 : tensor<16x8xf32>, tensor<3x2xf32>, tensor<0x2xf32>
// CHECK-NEXT:  }

// A reduction over size-1 axes is a reshape (over no axes, the operand); argmax keeps its
// index result, and a real reduction stays.
// CHECK-LABEL: func.func @reduce_unit_axes
func.func @reduce_unit_axes(%x: tensor<4x1x8xf32>, %y: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xi32>, tensor<4x1xf32>) {
  %0 = lax.reduce_sum %x axes [1] : tensor<4x1x8xf32> -> tensor<4x8xf32>
  %1 = lax.reduce_max %y axes [] : tensor<4x8xf32> -> tensor<4x8xf32>
  %2 = lax.argmax %x axes [1] : tensor<4x1x8xf32> -> tensor<4x8xi32>
  %3 = lax.reduce_min %x axes [2] : tensor<4x1x8xf32> -> tensor<4x1xf32>
  func.return %0, %1, %2, %3 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xi32>, tensor<4x1xf32>
}
// CHECK-NEXT:    %0 = lax.reshape %x : tensor<4x1x8xf32> -> tensor<4x8xf32>
// CHECK-NEXT:    %1 = lax.argmax %x axes [1] : tensor<4x1x8xf32> -> tensor<4x8xi32>
// CHECK-NEXT:    %2 = lax.reduce_min %x axes [2] : tensor<4x1x8xf32> -> tensor<4x1xf32>
// CHECK-NEXT:    func.return %0, %y, %1, %2 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xi32>, tensor<4x1xf32>
// CHECK-NEXT:  }

// select_n with a constant (splat) predicate picks its case; select_n(p, x, x) -> x.
// CHECK-LABEL: func.func @select
func.func @select(%x: tensor<4xf32>, %y: tensor<4xf32>, %p: tensor<4xi1>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %t = lax.constant dense<true> : tensor<i1>
  %two = lax.constant dense<2> : tensor<4xi32>
  %0 = lax.select_n %t, %x, %y : (tensor<i1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = lax.select_n %p, %x, %x : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %2 = lax.select_n %two, %x, %y, %1 : (tensor<4xi32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %3 = lax.select_n %p, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %0, %1, %2, %3 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
// CHECK-NEXT:    %0 = lax.select_n %p, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    func.return %y, %x, %x, %0 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
// CHECK-NEXT:  }

// Commutative ops get one operand order (constants last), so `cse` merges a + b and b + a;
// sub is not commutative and keeps both orders.
// CHECK-LABEL: func.func @commutative
// CSE-LABEL:   func.func @commutative
func.func @commutative(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %c = lax.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %0 = lax.add %a, %b : tensor<4xf32>
  %1 = lax.add %b, %a : tensor<4xf32>
  %2 = lax.mul %b, %a : tensor<4xf32>
  %3 = lax.mul %a, %b : tensor<4xf32>
  %4 = lax.sub %a, %b : tensor<4xf32>
  %5 = lax.sub %b, %a : tensor<4xf32>
  %6 = lax.add %0, %1 : tensor<4xf32>
  %7 = lax.add %2, %3 : tensor<4xf32>
  %8 = lax.max %c, %a : tensor<4xf32>
  %9 = lax.max %a, %c : tensor<4xf32>
  %10 = lax.add %8, %9 : tensor<4xf32>
  func.return %6, %7, %4, %5, %10 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
// CHECK:         %[[A0:.*]] = lax.add %[[X:[ab]]], %[[Y:[ab]]] : tensor<4xf32>
// CHECK-NEXT:    %[[A1:.*]] = lax.add %[[X]], %[[Y]] : tensor<4xf32>
// CHECK-NEXT:    %[[M0:.*]] = lax.mul %[[X]], %[[Y]] : tensor<4xf32>
// CHECK-NEXT:    %[[M1:.*]] = lax.mul %[[X]], %[[Y]] : tensor<4xf32>
// CHECK-NEXT:    lax.sub %a, %b : tensor<4xf32>
// CHECK-NEXT:    lax.sub %b, %a : tensor<4xf32>
// CHECK-NEXT:    lax.add %[[A0]], %[[A1]] : tensor<4xf32>
// CHECK-NEXT:    lax.add %[[M0]], %[[M1]] : tensor<4xf32>
// CHECK-NEXT:    lax.max %a, %c : tensor<4xf32>
// CHECK-NEXT:    lax.max %a, %c : tensor<4xf32>
// CSE-NEXT:      %c = lax.constant
// CSE-NEXT:      %0 = lax.add %[[X:[ab]]], %[[Y:[ab]]] : tensor<4xf32>
// CSE-NEXT:      %1 = lax.mul %[[X]], %[[Y]] : tensor<4xf32>
// CSE-NEXT:      %2 = lax.sub %a, %b : tensor<4xf32>
// CSE-NEXT:      %3 = lax.sub %b, %a : tensor<4xf32>
// CSE-NEXT:      %4 = lax.add %0, %0 : tensor<4xf32>
// CSE-NEXT:      %5 = lax.add %1, %1 : tensor<4xf32>
// CSE-NEXT:      %6 = lax.max %a, %c : tensor<4xf32>
// CSE-NEXT:      %7 = lax.add %6, %6 : tensor<4xf32>
// CSE-NEXT:      func.return %4, %5, %2, %3, %7

// The operand order is by the structure of the operands, so it holds across `cse`: the second
// sin(x) * y (a new sin, merged by cse) is ordered like the first, and so is cos + sin, and
// cse then merges the products and the sums (an order by first sight did not: sin' is seen
// after y).
// CSE-LABEL: func.func @commutative_repeats
func.func @commutative_repeats(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.sin %x : tensor<4xf32>
  %1 = lax.mul %0, %y : tensor<4xf32>
  %2 = lax.sin %x : tensor<4xf32>
  %3 = lax.mul %2, %y : tensor<4xf32>
  %4 = lax.cos %x : tensor<4xf32>
  %5 = lax.add %4, %0 : tensor<4xf32>
  %6 = lax.add %2, %4 : tensor<4xf32>
  %7 = lax.sub %1, %3 : tensor<4xf32>
  %8 = lax.sub %5, %6 : tensor<4xf32>
  %9 = lax.add %7, %8 : tensor<4xf32>
  func.return %9 : tensor<4xf32>
}
// CSE-NEXT:    %0 = lax.sin %x : tensor<4xf32>
// CSE-NEXT:    %1 = lax.mul {{%0, %y|%y, %0}} : tensor<4xf32>
// CSE-NEXT:    %2 = lax.cos %x : tensor<4xf32>
// CSE-NEXT:    %3 = lax.add {{%0, %2|%2, %0}} : tensor<4xf32>
// CSE-NEXT:    %4 = lax.sub %1, %1 : tensor<4xf32>
// CSE-NEXT:    %5 = lax.sub %3, %3 : tensor<4xf32>
// CSE-NEXT:    %6 = lax.add {{%4, %5|%5, %4}} : tensor<4xf32>
// CSE-NEXT:    func.return %6 : tensor<4xf32>

// The ops a pattern builds keep the location (the user's source line) of the op they replace.
// LOC-LABEL: func.func @locations
// CHECK-LABEL: func.func @locations
func.func @locations(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<2x2xf32>) {
  %0 = lax.add %a, %b : tensor<4xf32> loc("model.py":3:4)
  %1 = lax.add %b, %a : tensor<4xf32> loc("model.py":4:4)
  %2 = lax.reshape %a : tensor<4xf32> -> tensor<1x4xf32> loc("model.py":5:4)
  %3 = lax.reshape %2 : tensor<1x4xf32> -> tensor<2x2xf32> loc("model.py":6:4)
  func.return %0, %1, %3 : tensor<4xf32>, tensor<4xf32>, tensor<2x2xf32>
}
// LOC-NEXT:    lax.add {{.*}} loc("model.py":3:4)
// LOC-NEXT:    lax.add {{.*}} loc("model.py":4:4)
// LOC-NEXT:    lax.reshape %a : tensor<4xf32> -> tensor<2x2xf32> loc("model.py":6:4)

// Inside regions: the patterns apply to the ops of a `fused.kernel` (and of any region op) as
// at the top level, and dead ops in the region go too.
// CHECK-LABEL: func.func @in_kernel
func.func @in_kernel(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = fused.kernel(%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %n = lax.neg %a : tensor<4xf32>
    %nn = lax.neg %n : tensor<4xf32>
    %one = lax.constant dense<1.0> : tensor<4xf32>
    %m = lax.mul %one, %nn : tensor<4xf32>
    %dead = lax.exp %m : tensor<4xf32>
    %e = lax.tanh %m : tensor<4xf32>
    fused.yield %e : tensor<4xf32>
  }
  func.return %0 : tensor<4xf32>
}
// CHECK-NEXT:    %0 = fused.kernel(%x) : (tensor<4xf32>) -> tensor<4xf32> {
// CHECK-NEXT:    ^bb0(%a: tensor<4xf32>):
// CHECK-NEXT:      %e = lax.tanh %a : tensor<4xf32>
// CHECK-NEXT:      fused.yield %e : tensor<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %0 : tensor<4xf32>
// CHECK-NEXT:  }

// STATS:      'canonicalize'
// STATS-NEXT:   (AddZero) 3
// STATS-NEXT:   (BroadcastChain) 3
// STATS-NEXT:   (DivOne) 2
// STATS-NEXT:   (Idempotent) 1
// STATS-NEXT:   (Identity) 2
// STATS-NEXT:   (IntegerMulZero) 1
// STATS-NEXT:   (IntegerSelfSub) 1
// STATS-NEXT:   (Involution) 3
// STATS-NEXT:   (MulOne) 2
// STATS-NEXT:   (ReduceUnitAxes) 2
// STATS-NEXT:   (ReshapeChain) 3
// STATS-NEXT:   (SelectConstantPredicate) 3
// STATS-NEXT:   (SliceChain) 3
// STATS-NEXT:   (SortCommutativeOperands) {{[0-9]+}}
// STATS-NEXT:   (StopGradientInward) 1
// STATS-NEXT:   (SubZero) 1
// STATS-NEXT:   (TransposeChain) 4
// STATS-NEXT:   (ops erased) {{[0-9]+}}
// STATS-NEXT: 'cse'
// STATS-NEXT:   (ops erased) {{[0-9]+}}
