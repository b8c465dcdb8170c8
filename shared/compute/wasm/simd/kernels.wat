;; Hand-written WebAssembly SIMD (128-bit) kernels for the wasm backend, run on tfjs-backend-wasm's own heap.
;; Every pointer is a byte offset into that heap; every stride is in bytes. No allocation here: callers allocate
;; outputs through the backend first, then pass offsets (offsets stay valid when the memory grows).
;; Regenerate the embedded binary after editing: node dist/shared/compute/wasm/simd/assemble.js
(module
  (import "env" "memory" (memory 1))

  ;; ---- GEMM micro-kernels: C[r][j] (+)= sum over kc steps of A(r, k) * B[k][j], C and B row-major.
  ;; A(r, k) at a + r*ars + k*acs (any layout: each element is broadcast from memory); B row k at b + k*ldb;
  ;; C row r at c + r*crs. Sums run in k order, so blocking k changes nothing. kc >= 1.
  (func $tile4x8 (param $kc i32) (param $a i32) (param $ars i32) (param $acs i32) (param $b i32) (param $ldb i32)
                 (param $c i32) (param $crs i32) (param $acc i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local.set $r1 (i32.add (local.get $c) (local.get $crs)))
    (local.set $r2 (i32.add (local.get $r1) (local.get $crs)))
    (local.set $r3 (i32.add (local.get $r2) (local.get $crs)))
    (if (local.get $acc) (then
      (local.set $c00 (v128.load align=4 (local.get $c)))
      (local.set $c01 (v128.load offset=16 align=4 (local.get $c)))
      (local.set $c10 (v128.load align=4 (local.get $r1)))
      (local.set $c11 (v128.load offset=16 align=4 (local.get $r1)))
      (local.set $c20 (v128.load align=4 (local.get $r2)))
      (local.set $c21 (v128.load offset=16 align=4 (local.get $r2)))
      (local.set $c30 (v128.load align=4 (local.get $r3)))
      (local.set $c31 (v128.load offset=16 align=4 (local.get $r3)))))
    (local.set $a1 (i32.add (local.get $a) (local.get $ars)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $ars)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $ars)))
    (loop $k
      (local.set $b0 (v128.load align=4 (local.get $b)))
      (local.set $b1 (v128.load offset=16 align=4 (local.get $b)))
      (local.set $x (v128.load32_splat (local.get $a)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat (local.get $a1)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat (local.get $a2)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat (local.get $a3)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $a (i32.add (local.get $a) (local.get $acs)))
      (local.set $a1 (i32.add (local.get $a1) (local.get $acs)))
      (local.set $a2 (i32.add (local.get $a2) (local.get $acs)))
      (local.set $a3 (i32.add (local.get $a3) (local.get $acs)))
      (local.set $b (i32.add (local.get $b) (local.get $ldb)))
      (br_if $k (local.tee $kc (i32.sub (local.get $kc) (i32.const 1)))))
    (v128.store align=4 (local.get $c) (local.get $c00))
    (v128.store offset=16 align=4 (local.get $c) (local.get $c01))
    (v128.store align=4 (local.get $r1) (local.get $c10))
    (v128.store offset=16 align=4 (local.get $r1) (local.get $c11))
    (v128.store align=4 (local.get $r2) (local.get $c20))
    (v128.store offset=16 align=4 (local.get $r2) (local.get $c21))
    (v128.store align=4 (local.get $r3) (local.get $c30))
    (v128.store offset=16 align=4 (local.get $r3) (local.get $c31)))

  (func $tile4x4 (param $kc i32) (param $a i32) (param $ars i32) (param $acs i32) (param $b i32) (param $ldb i32)
                 (param $c i32) (param $crs i32) (param $acc i32)
    (local $c00 v128) (local $c10 v128) (local $c20 v128) (local $c30 v128) (local $b0 v128)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local.set $r1 (i32.add (local.get $c) (local.get $crs)))
    (local.set $r2 (i32.add (local.get $r1) (local.get $crs)))
    (local.set $r3 (i32.add (local.get $r2) (local.get $crs)))
    (if (local.get $acc) (then
      (local.set $c00 (v128.load align=4 (local.get $c)))
      (local.set $c10 (v128.load align=4 (local.get $r1)))
      (local.set $c20 (v128.load align=4 (local.get $r2)))
      (local.set $c30 (v128.load align=4 (local.get $r3)))))
    (local.set $a1 (i32.add (local.get $a) (local.get $ars)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $ars)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $ars)))
    (loop $k
      (local.set $b0 (v128.load align=4 (local.get $b)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (v128.load32_splat (local.get $a)) (local.get $b0))))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (v128.load32_splat (local.get $a1)) (local.get $b0))))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (v128.load32_splat (local.get $a2)) (local.get $b0))))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (v128.load32_splat (local.get $a3)) (local.get $b0))))
      (local.set $a (i32.add (local.get $a) (local.get $acs)))
      (local.set $a1 (i32.add (local.get $a1) (local.get $acs)))
      (local.set $a2 (i32.add (local.get $a2) (local.get $acs)))
      (local.set $a3 (i32.add (local.get $a3) (local.get $acs)))
      (local.set $b (i32.add (local.get $b) (local.get $ldb)))
      (br_if $k (local.tee $kc (i32.sub (local.get $kc) (i32.const 1)))))
    (v128.store align=4 (local.get $c) (local.get $c00))
    (v128.store align=4 (local.get $r1) (local.get $c10))
    (v128.store align=4 (local.get $r2) (local.get $c20))
    (v128.store align=4 (local.get $r3) (local.get $c30)))

  (func $tile1x8 (param $kc i32) (param $a i32) (param $acs i32) (param $b i32) (param $ldb i32)
                 (param $c i32) (param $acc i32)
    (local $c00 v128) (local $c01 v128) (local $x v128)
    (if (local.get $acc) (then
      (local.set $c00 (v128.load align=4 (local.get $c)))
      (local.set $c01 (v128.load offset=16 align=4 (local.get $c)))))
    (loop $k
      (local.set $x (v128.load32_splat (local.get $a)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (v128.load align=4 (local.get $b)))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (v128.load offset=16 align=4 (local.get $b)))))
      (local.set $a (i32.add (local.get $a) (local.get $acs)))
      (local.set $b (i32.add (local.get $b) (local.get $ldb)))
      (br_if $k (local.tee $kc (i32.sub (local.get $kc) (i32.const 1)))))
    (v128.store align=4 (local.get $c) (local.get $c00))
    (v128.store offset=16 align=4 (local.get $c) (local.get $c01)))

  (func $tile1x4 (param $kc i32) (param $a i32) (param $acs i32) (param $b i32) (param $ldb i32)
                 (param $c i32) (param $acc i32)
    (local $c00 v128)
    (if (local.get $acc) (then (local.set $c00 (v128.load align=4 (local.get $c)))))
    (loop $k
      (local.set $c00 (f32x4.add (local.get $c00)
        (f32x4.mul (v128.load32_splat (local.get $a)) (v128.load align=4 (local.get $b)))))
      (local.set $a (i32.add (local.get $a) (local.get $acs)))
      (local.set $b (i32.add (local.get $b) (local.get $ldb)))
      (br_if $k (local.tee $kc (i32.sub (local.get $kc) (i32.const 1)))))
    (v128.store align=4 (local.get $c) (local.get $c00)))

  ;; C[m][n] = (acc ? C : 0) + A(m x k) . B(k x n), n % 4 == 0, k >= 1. The k axis is cut into blocks of 256 so
  ;; that a block of B stays in cache while every row tile passes over it.
  (func (export "gemm") (param $m i32) (param $n i32) (param $k i32)
      (param $a i32) (param $ars i32) (param $acs i32) (param $b i32) (param $ldb i32)
      (param $c i32) (param $crs i32) (param $acc i32)
    (local $k0 i32) (local $kc i32) (local $i i32) (local $j i32) (local $ak i32) (local $bk i32)
    (local $ai i32) (local $ci i32) (local $accb i32)
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $k0) (local.get $k)))
      (local.set $kc (i32.sub (local.get $k) (local.get $k0)))
      (if (i32.gt_u (local.get $kc) (i32.const 256)) (then (local.set $kc (i32.const 256))))
      (local.set $accb (i32.or (local.get $acc) (i32.ne (local.get $k0) (i32.const 0))))
      (local.set $ak (i32.add (local.get $a) (i32.mul (local.get $k0) (local.get $acs))))
      (local.set $bk (i32.add (local.get $b) (i32.mul (local.get $k0) (local.get $ldb))))
      (local.set $i (i32.const 0))
      (block $rows4done (loop $rows4
        (br_if $rows4done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $m)))
        (local.set $ai (i32.add (local.get $ak) (i32.mul (local.get $i) (local.get $ars))))
        (local.set $ci (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $crs))))
        (local.set $j (i32.const 0))
        (block $cols8done (loop $cols8
          (br_if $cols8done (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $n)))
          (call $tile4x8 (local.get $kc) (local.get $ai) (local.get $ars) (local.get $acs)
            (i32.add (local.get $bk) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
            (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2))) (local.get $crs) (local.get $accb))
          (local.set $j (i32.add (local.get $j) (i32.const 8)))
          (br $cols8)))
        (if (i32.lt_u (local.get $j) (local.get $n)) (then
          (call $tile4x4 (local.get $kc) (local.get $ai) (local.get $ars) (local.get $acs)
            (i32.add (local.get $bk) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
            (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2))) (local.get $crs) (local.get $accb))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows4)))
      (block $rows1done (loop $rows1
        (br_if $rows1done (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $ai (i32.add (local.get $ak) (i32.mul (local.get $i) (local.get $ars))))
        (local.set $ci (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $crs))))
        (local.set $j (i32.const 0))
        (block $cols8done (loop $cols8
          (br_if $cols8done (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $n)))
          (call $tile1x8 (local.get $kc) (local.get $ai) (local.get $acs)
            (i32.add (local.get $bk) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
            (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2))) (local.get $accb))
          (local.set $j (i32.add (local.get $j) (i32.const 8)))
          (br $cols8)))
        (if (i32.lt_u (local.get $j) (local.get $n)) (then
          (call $tile1x4 (local.get $kc) (local.get $ai) (local.get $acs)
            (i32.add (local.get $bk) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb)
            (i32.add (local.get $ci) (i32.shl (local.get $j) (i32.const 2))) (local.get $accb))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows1)))
      (local.set $k0 (i32.add (local.get $k0) (i32.const 256)))
      (br $blocks))))

;; ---- Max-pool gradient, 2x2 windows, stride 2, no padding, windows tiling the input (NHWC), channels % 4 == 0.
  ;; Each output's gradient goes to the FIRST strict maximum of its window in row-major order (as the cpu backend
  ;; and PyTorch); a window of only NaN or -Infinity routes nothing. Every dx element is written.
  (func (export "maxPool2x2Grad") (param $x i32) (param $dy i32) (param $dx i32)
      (param $rows i32) (param $outWidth i32) (param $channels i32)
    (local $pixel i32) (local $rowPitch i32) (local $delta i32) (local $end i32)
    (local $p i32) (local $pend i32) (local $q i32) (local $qend i32) (local $o i32)
    (local $v00 v128) (local $v01 v128) (local $v10 v128) (local $v11 v128) (local $d v128)
    (local $best v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $ninf v128)
    (if (i32.or (i32.or (i32.eqz (local.get $rows)) (i32.eqz (local.get $outWidth))) (i32.eqz (local.get $channels)))
      (then (return)))
    (local.set $ninf (f32x4.splat (f32.const -inf)))
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $rowPitch (i32.shl (i32.mul (local.get $outWidth) (local.get $pixel)) (i32.const 1)))
    (local.set $delta (i32.sub (local.get $dx) (local.get $x)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (i32.shl (local.get $rowPitch) (i32.const 1)))))
    (loop $rowPairs
      (local.set $p (local.get $x))
      (local.set $pend (i32.add (local.get $x) (local.get $rowPitch)))
      (loop $windows
        (local.set $q (local.get $p))
        (local.set $qend (i32.add (local.get $p) (local.get $pixel)))
        (loop $lanes
          (local.set $v00 (v128.load align=4 (local.get $q)))
          (local.set $v01 (v128.load align=4 (i32.add (local.get $q) (local.get $pixel))))
          (local.set $v10 (v128.load align=4 (i32.add (local.get $q) (local.get $rowPitch))))
          (local.set $v11 (v128.load align=4 (i32.add (i32.add (local.get $q) (local.get $rowPitch)) (local.get $pixel))))
          (local.set $d (v128.load align=4 (local.get $dy)))
          ;; The running maximum in row-major order; s_i: position i beat everything before it.
          (local.set $s0 (f32x4.gt (local.get $v00) (local.get $ninf)))
          (local.set $best (v128.bitselect (local.get $v00) (local.get $ninf) (local.get $s0)))
          (local.set $s1 (f32x4.gt (local.get $v01) (local.get $best)))
          (local.set $best (v128.bitselect (local.get $v01) (local.get $best) (local.get $s1)))
          (local.set $s2 (f32x4.gt (local.get $v10) (local.get $best)))
          (local.set $best (v128.bitselect (local.get $v10) (local.get $best) (local.get $s2)))
          (local.set $s3 (f32x4.gt (local.get $v11) (local.get $best)))
          ;; The winner is the last position that improved: s_i and no later s_j.
          (local.set $s2 (v128.andnot (local.get $s2) (local.get $s3)))
          (local.set $s1 (v128.andnot (v128.andnot (local.get $s1) (local.get $s3)) (local.get $s2)))
          (local.set $s0 (v128.andnot (v128.andnot (v128.andnot (local.get $s0) (local.get $s3)) (local.get $s2)) (local.get $s1)))
          (local.set $o (i32.add (local.get $q) (local.get $delta)))
          (v128.store align=4 (local.get $o) (v128.and (local.get $d) (local.get $s0)))
          (v128.store align=4 (i32.add (local.get $o) (local.get $pixel)) (v128.and (local.get $d) (local.get $s1)))
          (v128.store align=4 (i32.add (local.get $o) (local.get $rowPitch)) (v128.and (local.get $d) (local.get $s2)))
          (v128.store align=4 (i32.add (i32.add (local.get $o) (local.get $rowPitch)) (local.get $pixel))
            (v128.and (local.get $d) (local.get $s3)))
          (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (br_if $lanes (i32.lt_u (local.get $q) (local.get $qend))))
        (local.set $p (i32.add (local.get $p) (i32.shl (local.get $pixel) (i32.const 1))))
        (br_if $windows (i32.lt_u (local.get $p) (local.get $pend))))
      (local.set $x (i32.add (local.get $x) (i32.shl (local.get $rowPitch) (i32.const 1))))
      (br_if $rowPairs (i32.lt_u (local.get $x) (local.get $end)))))

  ;; ---- out[r][j] = x[r][j] + bias[j] over rows x width, width % 4 == 0 (a bias broadcast over the last axis).
  (func (export "addBias") (param $x i32) (param $bias i32) (param $out i32) (param $rows i32) (param $width i32)
    (local $b i32) (local $bend i32) (local $end i32)
    (if (i32.or (i32.eqz (local.get $rows)) (i32.eqz (local.get $width))) (then (return)))
    (local.set $bend (i32.add (local.get $bias) (i32.shl (local.get $width) (i32.const 2))))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.mul (local.get $rows) (local.get $width)) (i32.const 2))))
    (loop $rowLoop
      (local.set $b (local.get $bias))
      (loop $cols
        (v128.store align=4 (local.get $out)
          (f32x4.add (v128.load align=4 (local.get $x)) (v128.load align=4 (local.get $b))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br_if $cols (i32.lt_u (local.get $b) (local.get $bend))))
      (br_if $rowLoop (i32.lt_u (local.get $x) (local.get $end)))))

  ;; ---- out[i] = a[i] + b[i], i < n.
  (func (export "addSame") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $end i32) (local $vend i32)
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $vend (i32.add (local.get $a) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $vdone (loop $v
      (br_if $vdone (i32.ge_u (local.get $a) (local.get $vend)))
      (v128.store align=4 (local.get $out) (f32x4.add (v128.load align=4 (local.get $a)) (v128.load align=4 (local.get $b))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $v)))
    (block $sdone (loop $s
      (br_if $sdone (i32.ge_u (local.get $a) (local.get $end)))
      (f32.store (local.get $out) (f32.add (f32.load (local.get $a)) (f32.load (local.get $b))))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (local.set $b (i32.add (local.get $b) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $s))))

  ;; ---- Column sums of rows x width (pitch in bytes), 4 columns, accumulated in float64 in row order.
  (func $sumColumns4 (param $x i32) (param $out i32) (param $rows i32) (param $pitch i32)
    (local $lo v128) (local $hi v128) (local $v v128)
    (loop $r
      (local.set $v (v128.load align=4 (local.get $x)))
      (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $v))))
      (local.set $hi (f64x2.add (local.get $hi) (f64x2.promote_low_f32x4
        (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))
      (local.set $x (i32.add (local.get $x) (local.get $pitch)))
      (br_if $r (local.tee $rows (i32.sub (local.get $rows) (i32.const 1)))))
    (v128.store align=4 (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi)))))

  ;; The same for 16 columns in one pass over the rows.
  (func $sumColumns16 (param $x i32) (param $out i32) (param $rows i32) (param $pitch i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128) (local $v v128)
    (loop $r
      (local.set $v (v128.load align=4 (local.get $x)))
      (local.set $a0 (f64x2.add (local.get $a0) (f64x2.promote_low_f32x4 (local.get $v))))
      (local.set $a1 (f64x2.add (local.get $a1) (f64x2.promote_low_f32x4
        (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))
      (local.set $v (v128.load offset=16 align=4 (local.get $x)))
      (local.set $a2 (f64x2.add (local.get $a2) (f64x2.promote_low_f32x4 (local.get $v))))
      (local.set $a3 (f64x2.add (local.get $a3) (f64x2.promote_low_f32x4
        (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))
      (local.set $v (v128.load offset=32 align=4 (local.get $x)))
      (local.set $a4 (f64x2.add (local.get $a4) (f64x2.promote_low_f32x4 (local.get $v))))
      (local.set $a5 (f64x2.add (local.get $a5) (f64x2.promote_low_f32x4
        (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))
      (local.set $v (v128.load offset=48 align=4 (local.get $x)))
      (local.set $a6 (f64x2.add (local.get $a6) (f64x2.promote_low_f32x4 (local.get $v))))
      (local.set $a7 (f64x2.add (local.get $a7) (f64x2.promote_low_f32x4
        (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))
      (local.set $x (i32.add (local.get $x) (local.get $pitch)))
      (br_if $r (local.tee $rows (i32.sub (local.get $rows) (i32.const 1)))))
    (v128.store align=4 (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (local.get $a0)) (f32x4.demote_f64x2_zero (local.get $a1))))
    (v128.store offset=16 align=4 (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (local.get $a2)) (f32x4.demote_f64x2_zero (local.get $a3))))
    (v128.store offset=32 align=4 (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (local.get $a4)) (f32x4.demote_f64x2_zero (local.get $a5))))
    (v128.store offset=48 align=4 (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (local.get $a6)) (f32x4.demote_f64x2_zero (local.get $a7)))))

  ;; ---- out[j] = sum over r of x[r][j] (float64 sums, rounded once), rows >= 1, width % 4 == 0.
  (func (export "sumRows") (param $x i32) (param $out i32) (param $rows i32) (param $width i32)
    (local $pitch i32) (local $j i32)
    (if (i32.eqz (local.get $rows)) (then (return)))
    (local.set $pitch (i32.shl (local.get $width) (i32.const 2)))
    (block $done16 (loop $by16
      (br_if $done16 (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $width)))
      (call $sumColumns16 (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2)))
        (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $rows) (local.get $pitch))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (br $by16)))
    (block $done4 (loop $by4
      (br_if $done4 (i32.ge_u (local.get $j) (local.get $width)))
      (call $sumColumns4 (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2)))
        (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $rows) (local.get $pitch))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $by4))))

  ;; ---- out[c][r] = x[r][c] for a rows x cols matrix: 4x4 blocks transposed in registers, edges one by one.
  (func (export "transpose") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $c i32) (local $rows4 i32) (local $cols4 i32) (local $in i32) (local $o i32)
    (local $rp i32) (local $cp i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $t0 v128) (local $t1 v128)
    (local $t2 v128) (local $t3 v128)
    (local.set $rows4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $cols4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $rp (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $cp (i32.shl (local.get $rows) (i32.const 2)))
    (block $rdone (loop $rloop
      (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows4)))
      (local.set $c (i32.const 0))
      (block $cdone (loop $cloop
        (br_if $cdone (i32.ge_u (local.get $c) (local.get $cols4)))
        (local.set $in (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $cols)) (local.get $c)) (i32.const 2))))
        (local.set $v0 (v128.load align=4 (local.get $in)))
        (local.set $v1 (v128.load align=4 (i32.add (local.get $in) (local.get $rp))))
        (local.set $v2 (v128.load align=4 (i32.add (local.get $in) (i32.shl (local.get $rp) (i32.const 1)))))
        (local.set $v3 (v128.load align=4 (i32.add (local.get $in) (i32.mul (local.get $rp) (i32.const 3)))))
        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
        (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
        (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
        (local.set $o (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2))))
        (v128.store align=4 (local.get $o)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
        (v128.store align=4 (i32.add (local.get $o) (local.get $cp))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
        (v128.store align=4 (i32.add (local.get $o) (i32.shl (local.get $cp) (i32.const 1)))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
        (v128.store align=4 (i32.add (local.get $o) (i32.mul (local.get $cp) (i32.const 3)))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (br $cloop)))
      ;; Columns past the last full block, for these 4 rows.
      (block $ctail (loop $cl
        (br_if $ctail (i32.ge_u (local.get $c) (local.get $cols)))
        (call $copyColumn (local.get $x) (local.get $out) (local.get $r) (i32.add (local.get $r) (i32.const 4))
          (local.get $c) (local.get $rows) (local.get $cols))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cl)))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br $rloop)))
    ;; Rows past the last full block, every column.
    (local.set $c (i32.const 0))
    (block $tdone (loop $tl
      (br_if $tdone (i32.ge_u (local.get $c) (local.get $cols)))
      (call $copyColumn (local.get $x) (local.get $out) (local.get $rows4) (local.get $rows)
        (local.get $c) (local.get $rows) (local.get $cols))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (br $tl))))

  ;; out[c][r] = x[r][c] for r in [r0, r1), one column c.
  (func $copyColumn (param $x i32) (param $out i32) (param $r0 i32) (param $r1 i32) (param $c i32)
      (param $rows i32) (param $cols i32)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $r0) (local.get $r1)))
      (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r0)) (i32.const 2)))
        (f32.load (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $r0) (local.get $cols)) (local.get $c)) (i32.const 2)))))
      (local.set $r0 (i32.add (local.get $r0) (i32.const 1)))
      (br $l))))

  ;; ---- Patches of an NHWC input, one row per output pixel: out[(n, oy, ox)][(i, j, c)] = x[n][oy+i-padTop][ox+j-padLeft][c]
  ;; (stride 1, dilation 1), zero outside the image. Row order matches a [fh, fw, c, co] filter flattened to 2-D.
  ;; Loops run per filter tap over a whole output row, so the inner loop is a strided copy with no bounds checks.
  (func (export "im2colPixels") (param $x i32) (param $out i32) (param $batch i32) (param $height i32)
      (param $width i32) (param $channels i32) (param $fh i32) (param $fw i32) (param $padTop i32)
      (param $padLeft i32) (param $outHeight i32) (param $outWidth i32)
    (local $n i32) (local $oy i32) (local $i i32) (local $j i32) (local $sy i32) (local $sx0 i32)
    (local $x0 i32) (local $x1 i32) (local $pixel i32) (local $rowBytes i32) (local $dst i32) (local $src i32)
    (local $row i32) (local $patchRow i32)
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $patchRow (i32.mul (i32.mul (local.get $fh) (local.get $fw)) (local.get $pixel)))
    (local.set $rowBytes (i32.mul (local.get $outWidth) (local.get $patchRow)))
    (local.set $row (local.get $out))
    (block $ndone (loop $nloop
      (br_if $ndone (i32.ge_u (local.get $n) (local.get $batch)))
      (local.set $oy (i32.const 0))
      (block $ydone (loop $yloop
        (br_if $ydone (i32.ge_u (local.get $oy) (local.get $outHeight)))
        (local.set $dst (local.get $row))
        (local.set $i (i32.const 0))
        (block $idone (loop $iloop
          (br_if $idone (i32.ge_u (local.get $i) (local.get $fh)))
          (local.set $sy (i32.sub (i32.add (local.get $oy) (local.get $i)) (local.get $padTop)))
          (local.set $j (i32.const 0))
          (block $jdone (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $fw)))
            ;; Output columns [x0, x1) read inside the image; the rest of the row is padding.
            (local.set $sx0 (i32.sub (local.get $j) (local.get $padLeft)))
            (local.set $x0 (select (i32.sub (i32.const 0) (local.get $sx0)) (i32.const 0) (i32.lt_s (local.get $sx0) (i32.const 0))))
            (local.set $x1 (i32.sub (local.get $width) (local.get $sx0)))
            (if (i32.gt_s (local.get $x1) (local.get $outWidth)) (then (local.set $x1 (local.get $outWidth))))
            (if (i32.ge_u (local.get $sy) (local.get $height)) (then (local.set $x1 (i32.const 0))))
            (if (i32.gt_s (local.get $x0) (local.get $outWidth)) (then (local.set $x0 (local.get $outWidth))))
            (if (i32.lt_s (local.get $x1) (local.get $x0)) (then (local.set $x1 (local.get $x0))))
            (call $zeroRun (local.get $dst) (local.get $patchRow) (local.get $x0) (local.get $pixel))
            (local.set $src (i32.add (local.get $x) (i32.mul (local.get $pixel)
              (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $height)) (local.get $sy)) (local.get $width))
                (i32.add (local.get $x0) (local.get $sx0))))))
            (call $copyRun (i32.add (local.get $dst) (i32.mul (local.get $x0) (local.get $patchRow))) (local.get $patchRow)
              (local.get $src) (i32.sub (local.get $x1) (local.get $x0)) (local.get $pixel))
            (call $zeroRun (i32.add (local.get $dst) (i32.mul (local.get $x1) (local.get $patchRow))) (local.get $patchRow)
              (i32.sub (local.get $outWidth) (local.get $x1)) (local.get $pixel))
            (local.set $dst (i32.add (local.get $dst) (local.get $pixel)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $jloop)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $iloop)))
        (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $yloop)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $nloop))))

  ;; count pixels of `pixel` bytes from contiguous src to dst, dst advancing by dstStride per pixel.
  (func $copyRun (param $dst i32) (param $dstStride i32) (param $src i32) (param $count i32) (param $pixel i32)
    (local $c i32)
    (if (i32.eqz (local.get $count)) (then (return)))
    (if (i32.eq (local.get $pixel) (i32.const 4))
      (then
        (loop $one
          (f32.store (local.get $dst) (f32.load (local.get $src)))
          (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
          (local.set $src (i32.add (local.get $src) (i32.const 4)))
          (br_if $one (local.tee $count (i32.sub (local.get $count) (i32.const 1))))))
      (else
        (loop $many
          (local.set $c (i32.const 0))
          (loop $lanes
            (f32.store (i32.add (local.get $dst) (local.get $c)) (f32.load (i32.add (local.get $src) (local.get $c))))
            (br_if $lanes (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 4))) (local.get $pixel))))
          (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
          (local.set $src (i32.add (local.get $src) (local.get $pixel)))
          (br_if $many (local.tee $count (i32.sub (local.get $count) (i32.const 1))))))))

  ;; count pixels of `pixel` bytes of zeros at dst, advancing by dstStride per pixel.
  (func $zeroRun (param $dst i32) (param $dstStride i32) (param $count i32) (param $pixel i32)
    (local $c i32)
    (if (i32.le_s (local.get $count) (i32.const 0)) (then (return)))
    (loop $many
      (local.set $c (i32.const 0))
      (loop $lanes
        (f32.store (i32.add (local.get $dst) (local.get $c)) (f32.const 0))
        (br_if $lanes (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 4))) (local.get $pixel))))
      (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
      (br_if $many (local.tee $count (i32.sub (local.get $count) (i32.const 1))))))
)
