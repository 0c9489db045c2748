// tiers-run on an artifact of tiers.save: inputs and outputs are the pytree leaves, in order.
// RUN: python -c "import numpy as np, tiers; tiers.save(lambda x, p: {'y': x * p['k'], 's': x.sum()}, '%t.tiers', np.ones((2, 2), np.float32), {'k': np.float32(3)})"
// RUN: tiers-run %t.tiers -i iota -i 2 | filecheck %s
// RUN: tiers-run %t.tiers -i iota -i 2 -p O0 | filecheck %s
// RUN: not tiers-run %t.tiers -i iota 2>&1 | filecheck %s --check-prefix=COUNT
// RUN: not tiers-run %t.tiers -i "[1, 2]" -i 2 2>&1 | filecheck %s --check-prefix=SHAPE

// CHECK:      array(6., dtype=float32)
// CHECK-NEXT: array({{\[\[}}0., 2.],
// CHECK-NEXT:        [4., 6.]], dtype=float32)

// COUNT: tiers-run: error: @main takes 2 input(s) (x: tensor<2x2xf32>, p['k']: tensor<f32>), got 1
// SHAPE: tiers-run: error: input 1 (x = [1, 2]): expected shape 2x2 (tensor<2x2xf32>), got 2
