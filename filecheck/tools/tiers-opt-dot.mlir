// RUN: tiers-opt %s -p fuse --emit=dot | filecheck %s
// RUN: tiers-opt %s --emit=dot | filecheck %s --check-prefix=IMPORT
// RUN: not tiers-opt %s --emit=dot -t stablehlo 2>&1 | filecheck %s --check-prefix=TARGET

// `--emit=dot`: the module after the pipeline as Graphviz DOT. One cluster per function (its
// arguments and results as nodes), one node per op coloured by dialect level, fused kernels
// and region ops as clusters whose terminators point at their op, edges labelled with types,
// source lines as tooltips. `dot -Tsvg` renders it.

func.func @main(%x: tensor<4x8xf32>, %b: tensor<8xf32>, %p: tensor<i32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = lax.broadcast_in_dim %b dims [1] : tensor<8xf32> -> tensor<4x8xf32> loc("model.py":3:9)
  %1 = lax.add %x, %0 : tensor<4x8xf32> loc("model.py":3:9)
  %2 = lax.exp %1 : tensor<4x8xf32> loc("model.py":4:11)
  %3 = array.softmax %2 axis 1 : tensor<4x8xf32> loc("model.py":5:7)
  %4 = lax.cond %p : tensor<i32> -> tensor<4x8xf32> {
    %5 = lax.neg %3 : tensor<4x8xf32> loc("model.py":6:20)
    lax.yield %5 : tensor<4x8xf32>
  }, {
    lax.yield %3 : tensor<4x8xf32>
  } loc("model.py":6:5)
  func.return %3, %4 : tensor<4x8xf32>, tensor<4x8xf32>
}

// CHECK:      digraph "tiers-opt-dot.mlir" {
// CHECK:        subgraph cluster_f{{[0-9]+}} {
// CHECK-NEXT:     label="@main";
// CHECK-NEXT:     [[X:a[0-9]+]] [label="arg 0: x\n4x8xf32", shape=invhouse
// CHECK-NEXT:     [[B:a[0-9]+]] [label="arg 1: b\n8xf32", shape=invhouse
// CHECK-NEXT:     [[P:a[0-9]+]] [label="arg 2: p\ni32", shape=invhouse
// CHECK-NEXT:     subgraph cluster_[[K:n[0-9]+]] {
// CHECK-NEXT:       label="fused.kernel"; style="filled,rounded";
// CHECK-NEXT:       [[KB:b[0-9]+]] [label="^arg0\n8xf32", shape=ellipse
// CHECK-NEXT:       [[KX:b[0-9]+]] [label="^arg1\n4x8xf32", shape=ellipse
// CHECK-NEXT:       [[BC:n[0-9]+]] [label="lax.broadcast_in_dim\ndims=[1]", fillcolor="#d3f0d3", tooltip="model.py:3:9"];
// CHECK-NEXT:       [[ADD:n[0-9]+]] [label="lax.add", fillcolor="#d3f0d3", tooltip="model.py:3:9"];
// CHECK-NEXT:       [[EXP:n[0-9]+]] [label="lax.exp", fillcolor="#d3f0d3", tooltip="model.py:4:11"];
// CHECK-NEXT:       [[KY:n[0-9]+]] [label="fused.yield", fillcolor="#ffd8a8"];
// CHECK-NEXT:       [[K]] [label="fused.kernel", fillcolor="#ffd8a8", tooltip="model.py:3:9; model.py:4:11", penwidth=2];
// CHECK-NEXT:     }
// CHECK-NEXT:     [[SM:n[0-9]+]] [label="array.softmax\naxis=1", fillcolor="#cfe2ff", tooltip="model.py:5:7"];
// CHECK-NEXT:     subgraph cluster_[[C:n[0-9]+]] {
// CHECK-NEXT:       label="lax.cond"; style="filled,rounded,dashed";
// CHECK-NEXT:       [[NEG:n[0-9]+]] [label="lax.neg"
// CHECK-NEXT:       [[Y1:n[0-9]+]] [label="lax.yield"
// CHECK-NEXT:       [[Y2:n[0-9]+]] [label="lax.yield"
// CHECK-NEXT:       [[C]] [label="lax.cond", fillcolor="#d3f0d3", tooltip="model.py:6:5", penwidth=2];
// CHECK-NEXT:     }
// CHECK-NEXT:     [[R0:r[0-9]+]] [label="result 0\n4x8xf32", shape=house
// CHECK-NEXT:     [[R1:r[0-9]+]] [label="result 1\n4x8xf32", shape=house
// CHECK-NEXT:   }
// CHECK-DAG:    [[B]] -> [[KB]] [style=invis];
// CHECK-DAG:    [[KB]] -> [[BC]] [label="8xf32"];
// CHECK-DAG:    [[BC]] -> [[ADD]] [label="4x8xf32"];
// CHECK-DAG:    [[ADD]] -> [[EXP]] [label="4x8xf32"];
// CHECK-DAG:    [[B]] -> [[K]] [label="8xf32"];
// CHECK-DAG:    [[X]] -> [[K]] [label="4x8xf32"];
// CHECK-DAG:    [[K]] -> [[SM]] [label="4x8xf32"];
// CHECK-DAG:    [[SM]] -> [[NEG]] [label="4x8xf32"];
// CHECK-DAG:    [[P]] -> [[C]] [label="i32"];
// CHECK-DAG:    [[SM]] -> [[R0]] [label="4x8xf32"];
// CHECK-DAG:    [[C]] -> [[R1]] [label="4x8xf32"];
// CHECK-DAG:    [[KY]] -> [[K]] [style=dashed, arrowhead=empty];
// CHECK-DAG:    [[Y1]] -> [[C]] [style=dashed, arrowhead=empty];
// CHECK-DAG:    [[Y2]] -> [[C]] [style=dashed, arrowhead=empty];
// CHECK:      }

// Without a pipeline: the imported ops, no kernel.
// IMPORT:     subgraph cluster_f{{[0-9]+}} {
// IMPORT-NOT: fused.kernel
// IMPORT:     [label="lax.broadcast_in_dim\ndims=[1]"
// IMPORT:     [label="lax.add"
// IMPORT:     [label="lax.exp"
// IMPORT-NOT: fused.kernel
// IMPORT:     subgraph cluster_n{{[0-9]+}} {
// IMPORT-NEXT:  label="lax.cond";

// TARGET: tiers-opt: error: --emit=dot prints its own output and takes no target (-t stablehlo)
