// RUN: tiers-opt %s -p cse,dce --print-ir-after=cse --print-ir-before=dce -o /dev/null 2>&1 | filecheck %s
// RUN: tiers-opt %s -p cse,cse --print-ir-after-change -o /dev/null 2>&1 | filecheck %s --check-prefix=CHANGE
// RUN: tiers-opt %s -p cse,fuse --mlir-timing -o /dev/null 2>&1 | filecheck %s --check-prefix=TIMING
// RUN: not tiers-opt %s -p 'fuse{max-opz=2}' 2>&1 | filecheck %s --check-prefix=OPTION
// RUN: not tiers-opt %s -p 'cse,fuse{max-ops=2' 2>&1 | filecheck %s --check-prefix=MALFORMED --strict-whitespace
// RUN: not tiers-opt %s -p cse,double-to-triple --load-plugin %S/../../tests/plugins/wrong_plugin.py --verify-semantics --reproducer-dir %t 2>&1 | filecheck %s --check-prefix=SEMANTICS

// mlir-opt's instrumentation flags: IR dumps (stderr), the timing report, error messages.

func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = lax.constant dense<2.0> : tensor<f32>
  %two = lax.broadcast_in_dim %c dims [] : tensor<f32> -> tensor<4xf32>
  %0 = lax.mul %x, %two : tensor<4xf32>
  %1 = lax.exp %0 : tensor<4xf32>
  %2 = lax.exp %0 : tensor<4xf32>
  %3 = lax.add %1, %2 : tensor<4xf32>
  func.return %3 : tensor<4xf32>
}

// CHECK:      // -----// IR Dump After cse //----- //
// CHECK:        %1 = lax.exp %0 : tensor<4xf32>
// CHECK-NEXT:   %2 = lax.add %1, %1 : tensor<4xf32>
// CHECK:      // -----// IR Dump Before dce //----- //

// CHANGE:     // -----// IR Dump After cse //----- //
// CHANGE-NOT: IR Dump

// TIMING:      ... Execution time report ...
// TIMING:      Total Execution Time: {{[0-9.]+}} seconds
// TIMING:      ----Wall Time----  ----Name----
// TIMING-NEXT: {{[0-9.]+}} ({{ *[0-9.]+}}%)  cse
// TIMING-NEXT: {{[0-9.]+}} ({{ *[0-9.]+}}%)  fuse
// TIMING-NEXT: {{[0-9.]+}} (100.0%)  Total

// OPTION: tiers-opt: error: pass 'fuse': unknown option 'max-opz'; its options: max-ops: int = 64, duplicate-cheap: bool = true

// MALFORMED:      tiers-opt: error: bad pipeline at column 19: Malformed pass arguments, expected either a space or `}` here
// MALFORMED-NEXT: {{^}}  cse,fuse{max-ops=2{{$}}
// MALFORMED-NEXT: {{^}}                    ^{{$}}

// SEMANTICS:      tiers-opt: error: pass 'double-to-triple' (pass 2 of 2) failed: it changed the program's values (rtol=0.0001, atol=1e-05): output 0[{{[0-9]+}}] on input set 0: {{.*}} before, {{.*}} after
// SEMANTICS-NEXT: reproducer (the input of 'double-to-triple'): {{.*}}instrumentation.mlir.tmp/instrumentation.reproducer.mlir
// SEMANTICS-NEXT: rerun it with: tiers-opt {{.*}}instrumentation.reproducer.mlir -p double-to-triple --load-plugin {{.*}}wrong_plugin.py --verify-semantics
