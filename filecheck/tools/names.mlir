// RUN: tiers-opt %s --print-debuginfo | filecheck %s
// RUN: tiers-opt %s --print-debuginfo | tiers-opt --print-debuginfo | filecheck %s
// RUN: tiers-opt %s -p O2 --print-debuginfo | filecheck %s --check-prefix=O2
// RUN: tiers-opt %s -p O1 -t stablehlo | filecheck %s --check-prefix=HLO
// RUN: not tiers-run %s -i ones 2>&1 | filecheck %s --check-prefix=ERR

// `tiers.jit` names @main's parameters and results after the user's pytree (dialects/names.py):
// a parameter by its location, `loc("params['w']")`, and an SSA name made of it; a result by
// `tiers.name` in its attributes. They print, parse back, survive passes, become the StableHLO
// arguments' locations and results' `jax.result_info`, and tiers-run's messages use them.

func.func @main(%params.w: tensor<3x2xf32> loc("params['w']"), %x: tensor<4x3xf32> loc("x")) -> (tensor<4x2xf32> {tiers.name = "result['y']"}, tensor<f32> {tiers.name = "result['n']"}) {
  %0 = lax.dot_general %x, %params.w lhs_contracting [1] rhs_contracting [0] lhs_batch [] rhs_batch [] : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32> loc("model.py":3:21)
  %1 = lax.tanh %0 : tensor<4x2xf32> loc("model.py":3:12)
  %2 = lax.reduce_sum %1 axes [0, 1] : tensor<4x2xf32> -> tensor<f32> loc("model.py":4:8)
  func.return %1, %2 : tensor<4x2xf32>, tensor<f32>
}

// CHECK:      func.func @main(%params.w: tensor<3x2xf32> loc("params['w']"), %x: tensor<4x3xf32> loc("x"))
// CHECK-SAME:   -> (tensor<4x2xf32> {tiers.name = "result['y']"}, tensor<f32> {tiers.name = "result['n']"})
// CHECK:        lax.tanh {{.*}} loc("model.py":3:12)

// O2:      func.func @main(%params.w: tensor<3x2xf32> loc("params['w']"), %x: tensor<4x3xf32> loc("x"))
// O2-SAME:   -> (tensor<4x2xf32> {tiers.name = "result['y']"}, tensor<f32> {tiers.name = "result['n']"})

// HLO:      func.func @main(%{{\w+}}: tensor<3x2xf32> loc("params['w']"), %{{\w+}}: tensor<4x3xf32> loc("x"))
// HLO-SAME:   -> (tensor<4x2xf32> {jax.result_info = "result['y']"}, tensor<f32> {jax.result_info = "result['n']"})
// HLO:        "stablehlo.tanh"{{.*}} loc("model.py":3:12)

// ERR: tiers-run: error: @main takes 2 input(s) (params['w']: tensor<3x2xf32>, x: tensor<4x3xf32>), got 1
