;; matchlab's WebAssembly SIMD training kernels, run on tfjs-backend-wasm's own heap (the memory is
;; imported), so they read and write tensors in place. Compiled by scripts/wasmgen.mjs into
;; src/backend/simd/kernels_wasm.ts in four variants: {plain SIMD, relaxed SIMD} × {own, shared memory}.
;; Two macros are expanded before compiling:
;;   MEMORY          → (memory 1) or, for the threaded build's heap, (memory 1 65536 shared)
;;   (MADD a b c)    → a·b + c: (f32x4.add (f32x4.mul a b) c), or (f32x4.relaxed_madd a b c)
;; All pointers and strides are in bytes.
(module
  (import "env" "memory" MEMORY)

  ;; dW[ci, co] += Σ_t x_tᵀ · dy_t, where x_t = x + t·xs holds ci floats and dy_t = dy + t·ds holds co
  ;; floats; dW is row-major with co columns. Needs ci % 4 == 0 and co % 4 == 0. Tiles of 4 rows × 8
  ;; columns (eight accumulators), then one 4 × 4 tile when co % 8 == 4. This is the filter gradient
  ;; of a convolution, one (tap, output row) span at a time, read straight from NHWC tensors.
  (func $rank_update (export "rank_update") (param $x i32) (param $xs i32) (param $dy i32) (param $ds i32)
      (param $count i32) (param $ci i32) (param $co i32) (param $dw i32)
    (local $k i32) (local $n i32) (local $t i32) (local $xp i32) (local $dp i32) (local $w i32) (local $rb i32)
    (local $s v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (if (i32.eqz (local.get $count)) (then (return)))
    (local.set $rb (i32.shl (local.get $co) (i32.const 2)))
    (local.set $k (i32.const 0))
    (loop $kloop
      (local.set $n (i32.const 0))
      (block $ndone
        (loop $nloop
          (br_if $ndone (i32.gt_u (i32.add (local.get $n) (i32.const 8)) (local.get $co)))
          (local.set $w (i32.add (local.get $dw)
            (i32.shl (i32.add (i32.mul (local.get $k) (local.get $co)) (local.get $n)) (i32.const 2))))
          (local.set $c00 (v128.load (local.get $w)))
          (local.set $c01 (v128.load offset=16 (local.get $w)))
          (local.set $c10 (v128.load (i32.add (local.get $w) (local.get $rb))))
          (local.set $c11 (v128.load offset=16 (i32.add (local.get $w) (local.get $rb))))
          (local.set $c20 (v128.load (i32.add (local.get $w) (i32.shl (local.get $rb) (i32.const 1)))))
          (local.set $c21 (v128.load offset=16 (i32.add (local.get $w) (i32.shl (local.get $rb) (i32.const 1)))))
          (local.set $c30 (v128.load (i32.add (local.get $w) (i32.mul (local.get $rb) (i32.const 3)))))
          (local.set $c31 (v128.load offset=16 (i32.add (local.get $w) (i32.mul (local.get $rb) (i32.const 3)))))
          (local.set $xp (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))))
          (local.set $dp (i32.add (local.get $dy) (i32.shl (local.get $n) (i32.const 2))))
          (local.set $t (local.get $count))
          (loop $tloop
            (local.set $b0 (v128.load (local.get $dp)))
            (local.set $b1 (v128.load offset=16 (local.get $dp)))
            (local.set $s (v128.load32_splat (local.get $xp)))
            (local.set $c00 (MADD (local.get $s) (local.get $b0) (local.get $c00)))
            (local.set $c01 (MADD (local.get $s) (local.get $b1) (local.get $c01)))
            (local.set $s (v128.load32_splat offset=4 (local.get $xp)))
            (local.set $c10 (MADD (local.get $s) (local.get $b0) (local.get $c10)))
            (local.set $c11 (MADD (local.get $s) (local.get $b1) (local.get $c11)))
            (local.set $s (v128.load32_splat offset=8 (local.get $xp)))
            (local.set $c20 (MADD (local.get $s) (local.get $b0) (local.get $c20)))
            (local.set $c21 (MADD (local.get $s) (local.get $b1) (local.get $c21)))
            (local.set $s (v128.load32_splat offset=12 (local.get $xp)))
            (local.set $c30 (MADD (local.get $s) (local.get $b0) (local.get $c30)))
            (local.set $c31 (MADD (local.get $s) (local.get $b1) (local.get $c31)))
            (local.set $xp (i32.add (local.get $xp) (local.get $xs)))
            (local.set $dp (i32.add (local.get $dp) (local.get $ds)))
            (br_if $tloop (local.tee $t (i32.sub (local.get $t) (i32.const 1)))))
          (v128.store (local.get $w) (local.get $c00))
          (v128.store offset=16 (local.get $w) (local.get $c01))
          (v128.store (i32.add (local.get $w) (local.get $rb)) (local.get $c10))
          (v128.store offset=16 (i32.add (local.get $w) (local.get $rb)) (local.get $c11))
          (v128.store (i32.add (local.get $w) (i32.shl (local.get $rb) (i32.const 1))) (local.get $c20))
          (v128.store offset=16 (i32.add (local.get $w) (i32.shl (local.get $rb) (i32.const 1))) (local.get $c21))
          (v128.store (i32.add (local.get $w) (i32.mul (local.get $rb) (i32.const 3))) (local.get $c30))
          (v128.store offset=16 (i32.add (local.get $w) (i32.mul (local.get $rb) (i32.const 3))) (local.get $c31))
          (local.set $n (i32.add (local.get $n) (i32.const 8)))
          (br $nloop)))
      ;; a last 4-column tile
      (if (i32.lt_u (local.get $n) (local.get $co))
        (then
          (local.set $w (i32.add (local.get $dw)
            (i32.shl (i32.add (i32.mul (local.get $k) (local.get $co)) (local.get $n)) (i32.const 2))))
          (local.set $c00 (v128.load (local.get $w)))
          (local.set $c10 (v128.load (i32.add (local.get $w) (local.get $rb))))
          (local.set $c20 (v128.load (i32.add (local.get $w) (i32.shl (local.get $rb) (i32.const 1)))))
          (local.set $c30 (v128.load (i32.add (local.get $w) (i32.mul (local.get $rb) (i32.const 3)))))
          (local.set $xp (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))))
          (local.set $dp (i32.add (local.get $dy) (i32.shl (local.get $n) (i32.const 2))))
          (local.set $t (local.get $count))
          (loop $tloop4
            (local.set $b0 (v128.load (local.get $dp)))
            (local.set $c00 (MADD (v128.load32_splat (local.get $xp)) (local.get $b0) (local.get $c00)))
            (local.set $c10 (MADD (v128.load32_splat offset=4 (local.get $xp)) (local.get $b0) (local.get $c10)))
            (local.set $c20 (MADD (v128.load32_splat offset=8 (local.get $xp)) (local.get $b0) (local.get $c20)))
            (local.set $c30 (MADD (v128.load32_splat offset=12 (local.get $xp)) (local.get $b0) (local.get $c30)))
            (local.set $xp (i32.add (local.get $xp) (local.get $xs)))
            (local.set $dp (i32.add (local.get $dp) (local.get $ds)))
            (br_if $tloop4 (local.tee $t (i32.sub (local.get $t) (i32.const 1)))))
          (v128.store (local.get $w) (local.get $c00))
          (v128.store (i32.add (local.get $w) (local.get $rb)) (local.get $c10))
          (v128.store (i32.add (local.get $w) (i32.shl (local.get $rb) (i32.const 1))) (local.get $c20))
          (v128.store (i32.add (local.get $w) (i32.mul (local.get $rb) (i32.const 3))) (local.get $c30))))
      (br_if $kloop (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 4))) (local.get $ci)))))

  ;; rank_update over `count` rows in blocks of `block` rows, so that each block's x and dy rows stay in
  ;; cache while all the tiles pass over them (a 1×1 convolution's filter gradient is one long span).
  (func (export "rank_update_blocked") (param $x i32) (param $xs i32) (param $dy i32) (param $ds i32)
      (param $count i32) (param $ci i32) (param $co i32) (param $dw i32) (param $block i32)
    (local $m i32)
    (block $done
      (loop $next
        (br_if $done (i32.le_s (local.get $count) (i32.const 0)))
        (local.set $m (select (local.get $block) (local.get $count) (i32.lt_s (local.get $block) (local.get $count))))
        (call $rank_update (local.get $x) (local.get $xs) (local.get $dy) (local.get $ds) (local.get $m) (local.get $ci) (local.get $co) (local.get $dw))
        (local.set $x (i32.add (local.get $x) (i32.mul (local.get $m) (local.get $xs))))
        (local.set $dy (i32.add (local.get $dy) (i32.mul (local.get $m) (local.get $ds))))
        (local.set $count (i32.sub (local.get $count) (local.get $m)))
        (br $next))))

  ;; The filter gradient of a convolution over images [b0, b1): for every output row and tap,
  ;; acc[tap] += Σ_t x[b, y, x₀ + t·sw, :]ᵀ · dy[b, i, j₀ + t, :] over the row's valid span (taps that
  ;; fall on padding are not visited). acc is [fh·fw][cp][co] with cp = ci rounded up to 4: when
  ;; ci < cp the kernel reads into the next pixel and the extra rows are to be dropped. x and dy are
  ;; the whole NHWC tensors.
  (func (export "conv_filter_grad") (param $x i32) (param $dy i32) (param $acc i32) (param $b0 i32) (param $b1 i32)
      (param $h i32) (param $w i32) (param $ci i32) (param $cp i32) (param $ho i32) (param $wo i32) (param $co i32)
      (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32) (param $top i32) (param $left i32)
    (local $b i32) (local $i i32) (local $a i32) (local $e i32) (local $y i32) (local $dx i32) (local $j0 i32) (local $j1 i32)
    (local $dyrow i32) (local $pix i32) (local $tapb i32)
    (if (i32.or (i32.ge_s (local.get $b0) (local.get $b1)) (i32.or (i32.eqz (local.get $ho)) (i32.eqz (local.get $wo)))) (then (return)))
    (local.set $pix (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $tapb (i32.shl (i32.mul (local.get $cp) (local.get $co)) (i32.const 2)))
    (local.set $b (local.get $b0))
    (loop $bloop
      (local.set $i (i32.const 0))
      (loop $iloop
        (local.set $dyrow (i32.add (local.get $dy)
          (i32.shl (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $ho)) (local.get $i)) (local.get $wo)) (local.get $co)) (i32.const 2))))
        (local.set $a (i32.const 0))
        (loop $aloop
          (local.set $y (i32.sub (i32.add (i32.mul (local.get $i) (local.get $sh)) (i32.mul (local.get $a) (local.get $dh))) (local.get $top)))
          (if (i32.and (i32.ge_s (local.get $y) (i32.const 0)) (i32.lt_s (local.get $y) (local.get $h)))
            (then
              (local.set $e (i32.const 0))
              (loop $eloop
                ;; valid output columns j: 0 <= j·sw + dx < w
                (local.set $dx (i32.sub (i32.mul (local.get $e) (local.get $dw)) (local.get $left)))
                (local.set $j0 (select
                  (i32.div_s (i32.add (i32.sub (i32.const 0) (local.get $dx)) (i32.sub (local.get $sw) (i32.const 1))) (local.get $sw))
                  (i32.const 0)
                  (i32.lt_s (local.get $dx) (i32.const 0))))
                (local.set $j1 (select
                  (i32.add (i32.div_s (i32.sub (i32.sub (local.get $w) (i32.const 1)) (local.get $dx)) (local.get $sw)) (i32.const 1))
                  (i32.const 0)
                  (i32.ge_s (i32.sub (i32.sub (local.get $w) (i32.const 1)) (local.get $dx)) (i32.const 0))))
                (if (i32.gt_s (local.get $j1) (local.get $wo)) (then (local.set $j1 (local.get $wo))))
                (if (i32.gt_s (local.get $j1) (local.get $j0))
                  (then
                    (call $rank_update
                      (i32.add (local.get $x) (i32.mul
                        (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $y)) (local.get $w))
                                 (i32.add (i32.mul (local.get $j0) (local.get $sw)) (local.get $dx)))
                        (local.get $pix)))
                      (i32.mul (local.get $sw) (local.get $pix))
                      (i32.add (local.get $dyrow) (i32.shl (i32.mul (local.get $j0) (local.get $co)) (i32.const 2)))
                      (i32.shl (local.get $co) (i32.const 2))
                      (i32.sub (local.get $j1) (local.get $j0))
                      (local.get $cp)
                      (local.get $co)
                      (i32.add (local.get $acc) (i32.mul (i32.add (i32.mul (local.get $a) (local.get $fw)) (local.get $e)) (local.get $tapb))))))
                (br_if $eloop (i32.lt_u (local.tee $e (i32.add (local.get $e) (i32.const 1))) (local.get $fw))))))
          (br_if $aloop (i32.lt_u (local.tee $a (i32.add (local.get $a) (i32.const 1))) (local.get $fh))))
        (br_if $iloop (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $ho))))
      (br_if $bloop (i32.lt_s (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $b1)))))

  ;; The filter gradient of a depthwise convolution (channel multiplier 1, c % 4 == 0) over images
  ;; [b0, b1): acc[tap][ch] += Σ x[b, y, j·sw + e·dw − left, ch] · dy[b, i, j, ch] over each output
  ;; row's valid span, four channels at a time; acc is [fh·fw][c] float32.
  (func (export "dw_filter_grad") (param $x i32) (param $dy i32) (param $acc i32) (param $b0 i32) (param $b1 i32)
      (param $h i32) (param $w i32) (param $c i32) (param $ho i32) (param $wo i32)
      (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32) (param $top i32) (param $left i32)
    (local $b i32) (local $i i32) (local $a i32) (local $e i32) (local $y i32) (local $dx i32) (local $j0 i32) (local $j1 i32)
    (local $pix i32) (local $xs i32) (local $ch i32) (local $t i32) (local $xp i32) (local $dp i32) (local $ap i32)
    (local $xrow i32) (local $dyrow i32) (local $v v128)
    (if (i32.or (i32.ge_s (local.get $b0) (local.get $b1)) (i32.or (i32.eqz (local.get $ho)) (i32.eqz (local.get $wo)))) (then (return)))
    (local.set $pix (i32.shl (local.get $c) (i32.const 2)))
    (local.set $xs (i32.mul (local.get $sw) (local.get $pix)))
    (local.set $b (local.get $b0))
    (loop $bloop
      (local.set $i (i32.const 0))
      (loop $iloop
        (local.set $dyrow (i32.add (local.get $dy)
          (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $ho)) (local.get $i)) (local.get $wo)) (local.get $pix))))
        (local.set $a (i32.const 0))
        (loop $aloop
          (local.set $y (i32.sub (i32.add (i32.mul (local.get $i) (local.get $sh)) (i32.mul (local.get $a) (local.get $dh))) (local.get $top)))
          (if (i32.and (i32.ge_s (local.get $y) (i32.const 0)) (i32.lt_s (local.get $y) (local.get $h)))
            (then
              (local.set $xrow (i32.add (local.get $x) (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $y)) (local.get $w)) (local.get $pix))))
              (local.set $e (i32.const 0))
              (loop $eloop
                (local.set $dx (i32.sub (i32.mul (local.get $e) (local.get $dw)) (local.get $left)))
                (local.set $j0 (select
                  (i32.div_s (i32.add (i32.sub (i32.const 0) (local.get $dx)) (i32.sub (local.get $sw) (i32.const 1))) (local.get $sw))
                  (i32.const 0)
                  (i32.lt_s (local.get $dx) (i32.const 0))))
                (local.set $j1 (select
                  (i32.add (i32.div_s (i32.sub (i32.sub (local.get $w) (i32.const 1)) (local.get $dx)) (local.get $sw)) (i32.const 1))
                  (i32.const 0)
                  (i32.ge_s (i32.sub (i32.sub (local.get $w) (i32.const 1)) (local.get $dx)) (i32.const 0))))
                (if (i32.gt_s (local.get $j1) (local.get $wo)) (then (local.set $j1 (local.get $wo))))
                (if (i32.gt_s (local.get $j1) (local.get $j0))
                  (then
                    (local.set $ch (i32.const 0))
                    (loop $cloop
                      (local.set $ap (i32.add (local.get $acc)
                        (i32.add (i32.mul (i32.add (i32.mul (local.get $a) (local.get $fw)) (local.get $e)) (local.get $pix)) (local.get $ch))))
                      (local.set $v (v128.load (local.get $ap)))
                      (local.set $xp (i32.add (i32.add (local.get $xrow) (local.get $ch))
                        (i32.mul (i32.add (i32.mul (local.get $j0) (local.get $sw)) (local.get $dx)) (local.get $pix))))
                      (local.set $dp (i32.add (i32.add (local.get $dyrow) (local.get $ch)) (i32.mul (local.get $j0) (local.get $pix))))
                      (local.set $t (i32.sub (local.get $j1) (local.get $j0)))
                      (loop $jloop
                        (local.set $v (MADD (v128.load (local.get $xp)) (v128.load (local.get $dp)) (local.get $v)))
                        (local.set $xp (i32.add (local.get $xp) (local.get $xs)))
                        (local.set $dp (i32.add (local.get $dp) (local.get $pix)))
                        (br_if $jloop (local.tee $t (i32.sub (local.get $t) (i32.const 1)))))
                      (v128.store (local.get $ap) (local.get $v))
                      (br_if $cloop (i32.lt_u (local.tee $ch (i32.add (local.get $ch) (i32.const 16))) (local.get $pix))))))
                (br_if $eloop (i32.lt_u (local.tee $e (i32.add (local.get $e) (i32.const 1))) (local.get $fw))))))
          (br_if $aloop (i32.lt_u (local.tee $a (i32.add (local.get $a) (i32.const 1))) (local.get $fh))))
        (br_if $iloop (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $ho))))
      (br_if $bloop (i32.lt_s (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $b1)))))

  ;; MaxPoolGrad of a 2×2, stride-2, unpadded pool over NHWC x [n, h, w, c] with dy [n, ho, wo, c]
  ;; (2·ho ≤ h, 2·wo ≤ w, c % 4 == 0): each window's gradient goes to its first maximum in row-major
  ;; order, the other three get 0. Rows and columns past 2·ho, 2·wo are left untouched.
  (func (export "maxpool_grad_2x2") (param $x i32) (param $dy i32) (param $dx i32)
      (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $ho i32) (param $wo i32)
    (local $b i32) (local $i i32) (local $j i32) (local $ch i32)
    (local $row i32) (local $rs i32) (local $p i32) (local $q i32) (local $g i32) (local $cb i32)
    (local $v00 v128) (local $v01 v128) (local $v10 v128) (local $v11 v128) (local $best v128) (local $gv v128)
    (local $m01 v128) (local $m10 v128) (local $m11 v128)
    (if (i32.or (i32.eqz (local.get $n)) (i32.or (i32.eqz (local.get $ho)) (i32.eqz (local.get $wo)))) (then (return)))
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))          ;; bytes per pixel
    (local.set $rs (i32.mul (local.get $w) (local.get $cb)))         ;; bytes per input row
    (local.set $g (local.get $dy))
    (local.set $b (i32.const 0))
    (loop $bloop
      (local.set $i (i32.const 0))
      (loop $iloop
        ;; offset of input row 2i of image b
        (local.set $row (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (i32.shl (local.get $i) (i32.const 1))) (local.get $rs)))
        (local.set $j (i32.const 0))
        (loop $jloop
          (local.set $p (i32.add (local.get $row) (i32.mul (i32.shl (local.get $j) (i32.const 1)) (local.get $cb))))
          (local.set $ch (i32.const 0))
          (loop $cloop
            (local.set $q (i32.add (local.get $p) (local.get $ch)))
            (local.set $v00 (v128.load (i32.add (local.get $x) (local.get $q))))
            (local.set $v01 (v128.load (i32.add (i32.add (local.get $x) (local.get $q)) (local.get $cb))))
            (local.set $v10 (v128.load (i32.add (i32.add (local.get $x) (local.get $q)) (local.get $rs))))
            (local.set $v11 (v128.load (i32.add (i32.add (i32.add (local.get $x) (local.get $q)) (local.get $rs)) (local.get $cb))))
            (local.set $m01 (f32x4.gt (local.get $v01) (local.get $v00)))
            (local.set $best (v128.bitselect (local.get $v01) (local.get $v00) (local.get $m01)))
            (local.set $m10 (f32x4.gt (local.get $v10) (local.get $best)))
            (local.set $best (v128.bitselect (local.get $v10) (local.get $best) (local.get $m10)))
            (local.set $m11 (f32x4.gt (local.get $v11) (local.get $best)))
            ;; the winner: 11 if m11, else 10 if m10, else 01 if m01, else 00
            (local.set $m10 (v128.andnot (local.get $m10) (local.get $m11)))
            (local.set $m01 (v128.andnot (v128.andnot (local.get $m01) (local.get $m11)) (local.get $m10)))
            (local.set $gv (v128.load (i32.add (local.get $g) (local.get $ch))))
            (v128.store (i32.add (i32.add (i32.add (local.get $dx) (local.get $q)) (local.get $rs)) (local.get $cb))
              (v128.and (local.get $gv) (local.get $m11)))
            (v128.store (i32.add (i32.add (local.get $dx) (local.get $q)) (local.get $rs))
              (v128.and (local.get $gv) (local.get $m10)))
            (v128.store (i32.add (i32.add (local.get $dx) (local.get $q)) (local.get $cb))
              (v128.and (local.get $gv) (local.get $m01)))
            (v128.store (i32.add (local.get $dx) (local.get $q))
              (v128.andnot (local.get $gv) (v128.or (local.get $m11) (v128.or (local.get $m10) (local.get $m01)))))
            (br_if $cloop (i32.lt_u (local.tee $ch (i32.add (local.get $ch) (i32.const 16))) (local.get $cb))))
          (local.set $g (i32.add (local.get $g) (local.get $cb)))
          (br_if $jloop (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $wo))))
        (br_if $iloop (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $ho))))
      (br_if $bloop (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $n)))))

  ;; The gradient through a ReLU and a bias: dx = dy where y > 0, else 0, over `rows` rows of c floats
  ;; (c % 4 == 0); when db is not 0, also adds each column's sum of dx into db (c float64s).
  (func (export "relu_grad_bias") (param $y i32) (param $dy i32) (param $dx i32) (param $rows i32) (param $c i32) (param $db i32)
    (local $end i32) (local $ch i32) (local $cb i32) (local $off i32) (local $v v128) (local $acc i32)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.mul (local.get $rows) (local.get $cb)))
    (if (i32.eqz (local.get $end)) (then (return)))
    (local.set $off (i32.const 0))
    (loop $rloop
      (local.set $ch (i32.const 0))
      (loop $cloop
        (local.set $v (v128.and
          (v128.load (i32.add (local.get $dy) (i32.add (local.get $off) (local.get $ch))))
          (f32x4.gt (v128.load (i32.add (local.get $y) (i32.add (local.get $off) (local.get $ch)))) (v128.const f32x4 0 0 0 0))))
        (v128.store (i32.add (local.get $dx) (i32.add (local.get $off) (local.get $ch))) (local.get $v))
        (if (local.get $db)
          (then
            (local.set $acc (i32.add (local.get $db) (i32.shl (local.get $ch) (i32.const 1))))
            (v128.store (local.get $acc) (f64x2.add (v128.load (local.get $acc)) (f64x2.promote_low_f32x4 (local.get $v))))
            (v128.store offset=16 (local.get $acc)
              (f64x2.add (v128.load offset=16 (local.get $acc))
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))))
        (br_if $cloop (i32.lt_u (local.tee $ch (i32.add (local.get $ch) (i32.const 16))) (local.get $cb))))
      (br_if $rloop (i32.lt_u (local.tee $off (i32.add (local.get $off) (local.get $cb))) (local.get $end)))))

  ;; Element-wise out[i] = op(a[i], b[i mod c]) over n floats (n and c multiples of 4): b is a whole
  ;; operand (c = n), a row repeated along a (c = its length) or a scalar splat 4 times (c = 4).
  ;; op: 0 add, 1 sub, 2 mul, 3 div, 4 min, 5 max, 6 b − a, 7 b / a.
  (func (export "binary") (param $op i32) (param $a i32) (param $b i32) (param $out i32) (param $n i32) (param $c i32)
    (local $i i32) (local $j i32) (local $nb i32) (local $cb i32) (local $va v128) (local $vb v128) (local $r v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (if (i32.or (i32.eqz (local.get $nb)) (i32.eqz (local.get $cb))) (then (return)))
    (loop $next
      (local.set $va (v128.load (i32.add (local.get $a) (local.get $i))))
      (local.set $vb (v128.load (i32.add (local.get $b) (local.get $j))))
      (block $done
        (block $o7 (block $o6 (block $o5 (block $o4 (block $o3 (block $o2 (block $o1 (block $o0
          (br_table $o0 $o1 $o2 $o3 $o4 $o5 $o6 $o7 $o0 (local.get $op)))
          (local.set $r (f32x4.add (local.get $va) (local.get $vb))) (br $done))
          (local.set $r (f32x4.sub (local.get $va) (local.get $vb))) (br $done))
          (local.set $r (f32x4.mul (local.get $va) (local.get $vb))) (br $done))
          (local.set $r (f32x4.div (local.get $va) (local.get $vb))) (br $done))
          (local.set $r (f32x4.min (local.get $va) (local.get $vb))) (br $done))
          (local.set $r (f32x4.max (local.get $va) (local.get $vb))) (br $done))
          (local.set $r (f32x4.sub (local.get $vb) (local.get $va))) (br $done))
          (local.set $r (f32x4.div (local.get $vb) (local.get $va))))
      (v128.store (i32.add (local.get $out) (local.get $i)) (local.get $r))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (if (i32.ge_u (local.get $j) (local.get $cb)) (then (local.set $j (i32.const 0))))
      (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $nb)))))

  ;; The gradient of a clip to (lo, hi]: dx = dy where lo < x ≤ hi, else 0, over n floats (n % 4 == 0).
  ;; ReLU6 is lo = 0, hi = 6 (the same mask as tfjs' Relu6 gradient). lo and hi come as their float32 bit
  ;; patterns (i32), since pool calls pass integers.
  (func (export "clip_grad") (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $lo i32) (param $hi i32)
    (local $i i32) (local $nb i32) (local $vx v128) (local $vlo v128) (local $vhi v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (if (i32.eqz (local.get $nb)) (then (return)))
    (local.set $vlo (f32x4.splat (f32.reinterpret_i32 (local.get $lo))))
    (local.set $vhi (f32x4.splat (f32.reinterpret_i32 (local.get $hi))))
    (loop $next
      (local.set $vx (v128.load (i32.add (local.get $x) (local.get $i))))
      (v128.store (i32.add (local.get $dx) (local.get $i))
        (v128.and (v128.load (i32.add (local.get $dy) (local.get $i)))
          (v128.and (f32x4.gt (local.get $vx) (local.get $vlo)) (f32x4.le (local.get $vx) (local.get $vhi)))))
      (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $nb)))))

  ;; Column sums of u and of u·v over `rows` rows of c floats (c % 4 == 0), added into float64s:
  ;; acc[0..c) += Σ u, and unless v is 0, acc[c..2c) += Σ u·v (v = u gives the sums of squares).
  ;; Bias gradients (v = 0), and BatchNorm's moments and its gradient's two sums, each in one pass.
  (func (export "col_sum2") (param $u i32) (param $v i32) (param $rows i32) (param $c i32) (param $acc i32)
    (local $end i32) (local $ch i32) (local $cb i32) (local $off i32) (local $a i32) (local $b i32)
    (local $x v128) (local $xy v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.mul (local.get $rows) (local.get $cb)))
    (if (i32.eqz (local.get $end)) (then (return)))
    (loop $rloop
      (local.set $ch (i32.const 0))
      (loop $cloop
        (local.set $x (v128.load (i32.add (local.get $u) (i32.add (local.get $off) (local.get $ch)))))
        (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $ch) (i32.const 1))))
        (v128.store (local.get $a) (f64x2.add (v128.load (local.get $a)) (f64x2.promote_low_f32x4 (local.get $x))))
        (v128.store offset=16 (local.get $a)
          (f64x2.add (v128.load offset=16 (local.get $a))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))))
        (if (local.get $v)
          (then
            (local.set $xy (f32x4.mul (local.get $x) (v128.load (i32.add (local.get $v) (i32.add (local.get $off) (local.get $ch))))))
            (local.set $b (i32.add (local.get $a) (i32.shl (local.get $cb) (i32.const 1))))
            (v128.store (local.get $b) (f64x2.add (v128.load (local.get $b)) (f64x2.promote_low_f32x4 (local.get $xy))))
            (v128.store offset=16 (local.get $b)
              (f64x2.add (v128.load offset=16 (local.get $b))
                (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $xy) (local.get $xy)))))))
        (br_if $cloop (i32.lt_u (local.tee $ch (i32.add (local.get $ch) (i32.const 16))) (local.get $cb))))
      (br_if $rloop (i32.lt_u (local.tee $off (i32.add (local.get $off) (local.get $cb))) (local.get $end)))))

  ;; Per-channel affine map of one or two inputs over `rows` rows of c floats (c % 4 == 0):
  ;; out = p·u + q·v + r with p, q, r rows of c floats; v = 0 (and q unused) for out = p·u + r.
  ;; BatchNorm's normalisation (y = scale·x + shift) and its input gradient (dx = k1·dy + k2·x + k3).
  (func (export "affine") (param $u i32) (param $v i32) (param $p i32) (param $q i32) (param $r i32) (param $out i32) (param $rows i32) (param $c i32)
    (local $end i32) (local $ch i32) (local $cb i32) (local $off i32) (local $o v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.mul (local.get $rows) (local.get $cb)))
    (if (i32.eqz (local.get $end)) (then (return)))
    (loop $rloop
      (local.set $ch (i32.const 0))
      (loop $cloop
        (local.set $o (MADD (v128.load (i32.add (local.get $u) (i32.add (local.get $off) (local.get $ch))))
          (v128.load (i32.add (local.get $p) (local.get $ch)))
          (v128.load (i32.add (local.get $r) (local.get $ch)))))
        (if (local.get $v)
          (then
            (local.set $o (MADD (v128.load (i32.add (local.get $v) (i32.add (local.get $off) (local.get $ch))))
              (v128.load (i32.add (local.get $q) (local.get $ch)))
              (local.get $o)))))
        (v128.store (i32.add (local.get $out) (i32.add (local.get $off) (local.get $ch))) (local.get $o))
        (br_if $cloop (i32.lt_u (local.tee $ch (i32.add (local.get $ch) (i32.const 16))) (local.get $cb))))
      (br_if $rloop (i32.lt_u (local.tee $off (i32.add (local.get $off) (local.get $cb))) (local.get $end)))))

  ;; A convolution over an already padded NHWC input x [n, hp, wp, ci] into y [n, ho, wo, co]
  ;; (co % 8 == 0): y = act(Σ x·f + bias), bias optional (0 = none), act = ReLU when relu is 1. The
  ;; filter comes packed in panels of 8 output channels, [co/8][fh·fw·ci][8], so that its reads run
  ;; along memory. Tiles of 4 output pixels × 8 channels; a row's last tile is shifted back to stay
  ;; inside it (pixels computed twice get the same values). With dw == 1 a filter row's fw taps are
  ;; fw·ci consecutive floats of the input row, so they run as one inner loop.
  (func (export "conv2d") (param $x i32) (param $hp i32) (param $wp i32) (param $ci i32)
      (param $f i32) (param $bias i32) (param $y i32)
      (param $n i32) (param $ho i32) (param $wo i32) (param $co i32)
      (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32) (param $relu i32)
    (local $b i32) (local $i i32) (local $j i32) (local $n0 i32) (local $a i32) (local $e i32) (local $t i32)
    (local $pix i32) (local $rowb i32) (local $js i32) (local $fco i32) (local $base i32) (local $yrow i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $fp i32) (local $q i32) (local $yp i32)
    (local $panel i32) (local $panelb i32) (local $taps i32) (local $run i32) (local $xq i32)
    (local $s v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (if (i32.or (i32.or (i32.eqz (local.get $n)) (i32.eqz (local.get $ho)))
                (i32.or (i32.or (i32.eqz (local.get $wo)) (i32.eqz (local.get $co))) (i32.eqz (local.get $ci))))
      (then (return)))
    (local.set $pix (i32.shl (local.get $ci) (i32.const 2)))            ;; bytes per input pixel
    (local.set $rowb (i32.mul (local.get $wp) (local.get $pix)))         ;; bytes per input row
    (local.set $js (i32.mul (local.get $sw) (local.get $pix)))           ;; bytes between output pixels
    (local.set $fco (i32.shl (local.get $co) (i32.const 2)))             ;; bytes per output pixel
    (local.set $panelb (i32.shl (i32.mul (i32.mul (local.get $fh) (local.get $fw)) (local.get $ci)) (i32.const 5)))
    ;; taps per filter row run separately, each `run` floats long (all fw of them at once when dw == 1)
    (local.set $taps (select (i32.const 1) (local.get $fw) (i32.eq (local.get $dw) (i32.const 1))))
    (local.set $run (select (i32.mul (local.get $fw) (local.get $ci)) (local.get $ci) (i32.eq (local.get $dw) (i32.const 1))))
    (local.set $b (i32.const 0))
    (loop $bloop
      (local.set $i (i32.const 0))
      (loop $iloop
        (local.set $base (i32.add (local.get $x)
          (i32.mul (i32.add (i32.mul (local.get $b) (local.get $hp)) (i32.mul (local.get $i) (local.get $sh))) (local.get $rowb))))
        (local.set $yrow (i32.add (local.get $y)
          (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $ho)) (local.get $i)) (local.get $wo)) (local.get $fco))))
        (local.set $n0 (i32.const 0))
        (local.set $panel (local.get $f))
        (loop $nloop
          (local.set $j (i32.const 0))
          (loop $jloop
            ;; q: first pixel of this tile, shifted back at the row's end; pixels past the row repeat its last
            (local.set $q (local.get $j))
            (if (i32.gt_s (i32.add (local.get $q) (i32.const 4)) (local.get $wo))
              (then (local.set $q (select (i32.sub (local.get $wo) (i32.const 4)) (i32.const 0) (i32.ge_s (local.get $wo) (i32.const 4))))))
            (if (local.get $bias)
              (then
                (local.set $c00 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $n0) (i32.const 2)))))
                (local.set $c01 (v128.load offset=16 (i32.add (local.get $bias) (i32.shl (local.get $n0) (i32.const 2))))))
              (else
                (local.set $c00 (v128.const i32x4 0 0 0 0))
                (local.set $c01 (v128.const i32x4 0 0 0 0))))
            (local.set $c10 (local.get $c00)) (local.set $c11 (local.get $c01))
            (local.set $c20 (local.get $c00)) (local.set $c21 (local.get $c01))
            (local.set $c30 (local.get $c00)) (local.set $c31 (local.get $c01))
            (local.set $xq (i32.add (local.get $base) (i32.mul (local.get $q) (local.get $js))))
            (local.set $fp (local.get $panel))
            (local.set $a (i32.const 0))
            (loop $aloop
              (local.set $e (i32.const 0))
              (loop $eloop
                (local.set $p0 (i32.add (local.get $xq)
                  (i32.add (i32.mul (i32.mul (local.get $a) (local.get $dh)) (local.get $rowb))
                           (i32.mul (i32.mul (local.get $e) (local.get $dw)) (local.get $pix)))))
                (local.set $p1 (select (i32.add (local.get $p0) (local.get $js)) (local.get $p0) (i32.lt_s (i32.add (local.get $q) (i32.const 1)) (local.get $wo))))
                (local.set $p2 (select (i32.add (local.get $p1) (local.get $js)) (local.get $p1) (i32.lt_s (i32.add (local.get $q) (i32.const 2)) (local.get $wo))))
                (local.set $p3 (select (i32.add (local.get $p2) (local.get $js)) (local.get $p2) (i32.lt_s (i32.add (local.get $q) (i32.const 3)) (local.get $wo))))
                (local.set $t (local.get $run))
                (loop $cloop
                  (local.set $b0 (v128.load (local.get $fp)))
                  (local.set $b1 (v128.load offset=16 (local.get $fp)))
                  (local.set $s (v128.load32_splat (local.get $p0)))
                  (local.set $c00 (MADD (local.get $s) (local.get $b0) (local.get $c00)))
                  (local.set $c01 (MADD (local.get $s) (local.get $b1) (local.get $c01)))
                  (local.set $s (v128.load32_splat (local.get $p1)))
                  (local.set $c10 (MADD (local.get $s) (local.get $b0) (local.get $c10)))
                  (local.set $c11 (MADD (local.get $s) (local.get $b1) (local.get $c11)))
                  (local.set $s (v128.load32_splat (local.get $p2)))
                  (local.set $c20 (MADD (local.get $s) (local.get $b0) (local.get $c20)))
                  (local.set $c21 (MADD (local.get $s) (local.get $b1) (local.get $c21)))
                  (local.set $s (v128.load32_splat (local.get $p3)))
                  (local.set $c30 (MADD (local.get $s) (local.get $b0) (local.get $c30)))
                  (local.set $c31 (MADD (local.get $s) (local.get $b1) (local.get $c31)))
                  (local.set $p0 (i32.add (local.get $p0) (i32.const 4)))
                  (local.set $p1 (i32.add (local.get $p1) (i32.const 4)))
                  (local.set $p2 (i32.add (local.get $p2) (i32.const 4)))
                  (local.set $p3 (i32.add (local.get $p3) (i32.const 4)))
                  (local.set $fp (i32.add (local.get $fp) (i32.const 32)))
                  (br_if $cloop (local.tee $t (i32.sub (local.get $t) (i32.const 1)))))
                (br_if $eloop (i32.lt_u (local.tee $e (i32.add (local.get $e) (i32.const 1))) (local.get $taps))))
              (br_if $aloop (i32.lt_u (local.tee $a (i32.add (local.get $a) (i32.const 1))) (local.get $fh))))
            (if (local.get $relu)
              (then
                (local.set $c00 (f32x4.max (local.get $c00) (v128.const f32x4 0 0 0 0)))
                (local.set $c01 (f32x4.max (local.get $c01) (v128.const f32x4 0 0 0 0)))
                (local.set $c10 (f32x4.max (local.get $c10) (v128.const f32x4 0 0 0 0)))
                (local.set $c11 (f32x4.max (local.get $c11) (v128.const f32x4 0 0 0 0)))
                (local.set $c20 (f32x4.max (local.get $c20) (v128.const f32x4 0 0 0 0)))
                (local.set $c21 (f32x4.max (local.get $c21) (v128.const f32x4 0 0 0 0)))
                (local.set $c30 (f32x4.max (local.get $c30) (v128.const f32x4 0 0 0 0)))
                (local.set $c31 (f32x4.max (local.get $c31) (v128.const f32x4 0 0 0 0)))))
            (local.set $yp (i32.add (local.get $yrow) (i32.shl (local.get $n0) (i32.const 2))))
            (local.set $p0 (i32.add (local.get $yp) (i32.mul (local.get $q) (local.get $fco))))
            (local.set $p1 (select (i32.add (local.get $p0) (local.get $fco)) (local.get $p0) (i32.lt_s (i32.add (local.get $q) (i32.const 1)) (local.get $wo))))
            (local.set $p2 (select (i32.add (local.get $p1) (local.get $fco)) (local.get $p1) (i32.lt_s (i32.add (local.get $q) (i32.const 2)) (local.get $wo))))
            (local.set $p3 (select (i32.add (local.get $p2) (local.get $fco)) (local.get $p2) (i32.lt_s (i32.add (local.get $q) (i32.const 3)) (local.get $wo))))
            (v128.store (local.get $p3) (local.get $c30))
            (v128.store offset=16 (local.get $p3) (local.get $c31))
            (v128.store (local.get $p2) (local.get $c20))
            (v128.store offset=16 (local.get $p2) (local.get $c21))
            (v128.store (local.get $p1) (local.get $c10))
            (v128.store offset=16 (local.get $p1) (local.get $c11))
            (v128.store (local.get $p0) (local.get $c00))
            (v128.store offset=16 (local.get $p0) (local.get $c01))
            (br_if $jloop (i32.lt_s (local.tee $j (i32.add (local.get $j) (i32.const 4))) (local.get $wo))))
          (local.set $panel (i32.add (local.get $panel) (local.get $panelb)))
          (br_if $nloop (i32.lt_u (local.tee $n0 (i32.add (local.get $n0) (i32.const 8))) (local.get $co))))
        (br_if $iloop (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $ho))))
      (br_if $bloop (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $n)))))

  ;; ---- Dense matrix products (MatMul / BatchMatMul / _FusedMatMul and their gradients) ----

  ;; Stores the first `cols` (1..8) floats of [v0 v1] at p (the other lanes are dropped).
  (func $store8 (param $p i32) (param $v0 v128) (param $v1 v128) (param $cols i32)
    (if (i32.ge_u (local.get $cols) (i32.const 8))
      (then (v128.store (local.get $p) (local.get $v0)) (v128.store offset=16 (local.get $p) (local.get $v1)) (return)))
    (if (i32.ge_u (local.get $cols) (i32.const 4))
      (then
        (v128.store (local.get $p) (local.get $v0))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $v0 (local.get $v1))
        (local.set $cols (i32.sub (local.get $cols) (i32.const 4)))))
    (if (i32.ge_u (local.get $cols) (i32.const 1)) (then (v128.store32_lane 0 (local.get $p) (local.get $v0))))
    (if (i32.ge_u (local.get $cols) (i32.const 2)) (then (v128.store32_lane offset=4 1 (local.get $p) (local.get $v0))))
    (if (i32.ge_u (local.get $cols) (i32.const 3)) (then (v128.store32_lane offset=8 2 (local.get $p) (local.get $v0)))))

  ;; C = act(A·B + bias) for C [m, n] (row stride csr), in tiles of 4 rows × 8 columns (eight f32x4
  ;; accumulators, k multiply-add steps each). A is read as A(i, t) = a + floor(i/4)·abs + (i mod 4)·4 + t·ask:
  ;; a matrix packed in 4-row panels [ceil(m/4)][k][4] (abs = 16k, ask = 16, see pack_a4), or the transpose
  ;; of a row-major X [k, m] as it lies (abs = 16, ask = X's row stride: the weight gradient Xᵀ·dY). B
  ;; is row-major with row stride bsk: B(t, j) = b + t·bsk + 4j. Column tiles run outside row tiles, so
  ;; a tile's 8-column strip of B (k rows) stays in cache across the row tiles. Rows and columns past m
  ;; and n are computed (reading past A's or B's last row by at most 28 bytes) and not stored. bias (0 =
  ;; none) holds n floats; act = ReLU when relu is 1. Unless pack is 0, each 8-column strip of B is
  ;; first copied to pack (32k bytes) as [k][8], so that the tiles read it along memory (B's rows at a
  ;; power-of-two stride otherwise fall into few cache sets).
  (func (export "gemm") (param $a i32) (param $abs i32) (param $ask i32) (param $b i32) (param $bsk i32)
      (param $c i32) (param $csr i32) (param $m i32) (param $n i32) (param $k i32) (param $bias i32) (param $relu i32) (param $pack i32)
    (local $i i32) (local $j i32) (local $t i32) (local $ap i32) (local $bp i32) (local $cp i32) (local $cols i32) (local $rows i32)
    (local $strip i32) (local $ss i32) (local $q i32)
    (local $s v128) (local $b0 v128) (local $b1 v128) (local $z v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (if (i32.or (i32.or (i32.eqz (local.get $m)) (i32.eqz (local.get $n))) (i32.eqz (local.get $k))) (then (return)))
    (loop $jloop
      (local.set $cols (i32.sub (local.get $n) (local.get $j)))
      (local.set $strip (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $ss (local.get $bsk))
      (if (local.get $pack)
        (then
          (local.set $bp (local.get $strip))
          (local.set $q (local.get $pack))
          (local.set $t (local.get $k))
          (loop $ploop
            (v128.store (local.get $q) (v128.load (local.get $bp)))
            (v128.store offset=16 (local.get $q) (v128.load offset=16 (local.get $bp)))
            (local.set $bp (i32.add (local.get $bp) (local.get $bsk)))
            (local.set $q (i32.add (local.get $q) (i32.const 32)))
            (br_if $ploop (local.tee $t (i32.sub (local.get $t) (i32.const 1)))))
          (local.set $strip (local.get $pack))
          (local.set $ss (i32.const 32))))
      (local.set $i (i32.const 0))
      (loop $iloop
        (if (local.get $bias)
          (then
            (local.set $c00 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $c01 (v128.load offset=16 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))
          (else
            (local.set $c00 (v128.const i32x4 0 0 0 0))
            (local.set $c01 (v128.const i32x4 0 0 0 0))))
        (local.set $c10 (local.get $c00)) (local.set $c11 (local.get $c01))
        (local.set $c20 (local.get $c00)) (local.set $c21 (local.get $c01))
        (local.set $c30 (local.get $c00)) (local.set $c31 (local.get $c01))
        (local.set $ap (i32.add (local.get $a) (i32.mul (i32.shr_u (local.get $i) (i32.const 2)) (local.get $abs))))
        (local.set $bp (local.get $strip))
        (local.set $t (local.get $k))
        (loop $tloop
          (local.set $b0 (v128.load (local.get $bp)))
          (local.set $b1 (v128.load offset=16 (local.get $bp)))
          (local.set $s (v128.load32_splat (local.get $ap)))
          (local.set $c00 (MADD (local.get $s) (local.get $b0) (local.get $c00)))
          (local.set $c01 (MADD (local.get $s) (local.get $b1) (local.get $c01)))
          (local.set $s (v128.load32_splat offset=4 (local.get $ap)))
          (local.set $c10 (MADD (local.get $s) (local.get $b0) (local.get $c10)))
          (local.set $c11 (MADD (local.get $s) (local.get $b1) (local.get $c11)))
          (local.set $s (v128.load32_splat offset=8 (local.get $ap)))
          (local.set $c20 (MADD (local.get $s) (local.get $b0) (local.get $c20)))
          (local.set $c21 (MADD (local.get $s) (local.get $b1) (local.get $c21)))
          (local.set $s (v128.load32_splat offset=12 (local.get $ap)))
          (local.set $c30 (MADD (local.get $s) (local.get $b0) (local.get $c30)))
          (local.set $c31 (MADD (local.get $s) (local.get $b1) (local.get $c31)))
          (local.set $ap (i32.add (local.get $ap) (local.get $ask)))
          (local.set $bp (i32.add (local.get $bp) (local.get $ss)))
          (br_if $tloop (local.tee $t (i32.sub (local.get $t) (i32.const 1)))))
        (if (local.get $relu)
          (then
            (local.set $z (v128.const f32x4 0 0 0 0))
            (local.set $c00 (f32x4.max (local.get $c00) (local.get $z)))
            (local.set $c01 (f32x4.max (local.get $c01) (local.get $z)))
            (local.set $c10 (f32x4.max (local.get $c10) (local.get $z)))
            (local.set $c11 (f32x4.max (local.get $c11) (local.get $z)))
            (local.set $c20 (f32x4.max (local.get $c20) (local.get $z)))
            (local.set $c21 (f32x4.max (local.get $c21) (local.get $z)))
            (local.set $c30 (f32x4.max (local.get $c30) (local.get $z)))
            (local.set $c31 (f32x4.max (local.get $c31) (local.get $z)))))
        (local.set $rows (i32.sub (local.get $m) (local.get $i)))
        (local.set $cp (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $csr)) (i32.shl (local.get $j) (i32.const 2)))))
        (call $store8 (local.get $cp) (local.get $c00) (local.get $c01) (local.get $cols))
        (if (i32.gt_s (local.get $rows) (i32.const 1))
          (then (call $store8 (i32.add (local.get $cp) (local.get $csr)) (local.get $c10) (local.get $c11) (local.get $cols))))
        (if (i32.gt_s (local.get $rows) (i32.const 2))
          (then (call $store8 (i32.add (local.get $cp) (i32.shl (local.get $csr) (i32.const 1))) (local.get $c20) (local.get $c21) (local.get $cols))))
        (if (i32.gt_s (local.get $rows) (i32.const 3))
          (then (call $store8 (i32.add (local.get $cp) (i32.mul (local.get $csr) (i32.const 3))) (local.get $c30) (local.get $c31) (local.get $cols))))
        (br_if $iloop (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $m))))
      (br_if $jloop (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 8))) (local.get $n)))))

  ;; Packs rows of A into 4-row panels for gemm: dst[floor(i/4)][t][i mod 4] = A(i, t) = src + i·rs + t·cs
  ;; for i < m, t < k; rows m..ceil(m/4)·4 are zero.
  (func (export "pack_a4") (param $src i32) (param $rs i32) (param $cs i32) (param $m i32) (param $k i32) (param $dst i32)
    (local $i i32) (local $t i32) (local $r i32) (local $row i32) (local $p i32)
    (if (i32.or (i32.eqz (local.get $m)) (i32.eqz (local.get $k))) (then (return)))
    (loop $iloop
      (local.set $r (i32.const 0))
      (loop $rloop
        (local.set $row (i32.add (local.get $i) (local.get $r)))
        (local.set $p (i32.add (local.get $dst) (i32.add (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 2)) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $t (i32.const 0))
        (if (i32.lt_u (local.get $row) (local.get $m))
          (then
            (local.set $row (i32.add (local.get $src) (i32.mul (local.get $row) (local.get $rs))))
            (loop $tloop
              (f32.store (local.get $p) (f32.load (local.get $row)))
              (local.set $row (i32.add (local.get $row) (local.get $cs)))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (br_if $tloop (i32.lt_u (local.tee $t (i32.add (local.get $t) (i32.const 1))) (local.get $k)))))
          (else
            (loop $zloop
              (f32.store (local.get $p) (f32.const 0))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (br_if $zloop (i32.lt_u (local.tee $t (i32.add (local.get $t) (i32.const 1))) (local.get $k))))))
        (br_if $rloop (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (i32.const 4))))
      (br_if $iloop (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $m)))))

  ;; The sum of a f32x4's lanes.
  (func $hsum (param $v v128) (result f32)
    (local.set $v (f32x4.add (local.get $v) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
    (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v))))

  ;; C = A·Bᵀ for row-major A [m, k] (row stride lda) and B [n, k] (row stride ldb) into C [m, n] (row
  ;; stride ldc): dot products along k, in tiles of 4 rows of A × 2 rows of B (eight f32x4 accumulators,
  ;; six loads per eight multiply-adds), k in blocks of kc floats (kc % 4 == 0) so that a block of A's
  ;; rows stays in cache while B's rows pass over it; the blocks' sums are added into C. Rows past m or
  ;; n repeat the last one and are not stored. The input gradient of a dense layer, dY·Wᵀ.
  (func (export "gemm_nt") (param $a i32) (param $lda i32) (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32)
      (param $m i32) (param $n i32) (param $k i32) (param $kc i32)
    (local $k0 i32) (local $len i32) (local $vec i32) (local $i i32) (local $j i32) (local $t i32) (local $off i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $b0 i32) (local $b1 i32) (local $cp i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $y0 v128) (local $y1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $s00 f32) (local $s01 f32) (local $s10 f32) (local $s11 f32) (local $s20 f32) (local $s21 f32) (local $s30 f32) (local $s31 f32)
    (local $f0 f32) (local $f1 f32) (local $f2 f32) (local $f3 f32) (local $g0 f32) (local $g1 f32)
    (if (i32.or (i32.or (i32.eqz (local.get $m)) (i32.eqz (local.get $n))) (i32.eqz (local.get $k))) (then (return)))
    (loop $kloop
      (local.set $len (i32.sub (local.get $k) (local.get $k0)))
      (if (i32.gt_u (local.get $len) (local.get $kc)) (then (local.set $len (local.get $kc))))
      (local.set $vec (i32.shl (i32.shr_u (local.get $len) (i32.const 2)) (i32.const 4))) ;; bytes in whole f32x4s
      (local.set $j (i32.const 0))
      (loop $jloop
        (local.set $b0 (i32.add (local.get $b) (i32.add (i32.mul (local.get $j) (local.get $ldb)) (i32.shl (local.get $k0) (i32.const 2)))))
        (local.set $b1 (select (i32.add (local.get $b0) (local.get $ldb)) (local.get $b0) (i32.lt_u (i32.add (local.get $j) (i32.const 1)) (local.get $n))))
        (local.set $i (i32.const 0))
        (loop $iloop
          (local.set $a0 (i32.add (local.get $a) (i32.add (i32.mul (local.get $i) (local.get $lda)) (i32.shl (local.get $k0) (i32.const 2)))))
          (local.set $a1 (select (i32.add (local.get $a0) (local.get $lda)) (local.get $a0) (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $m))))
          (local.set $a2 (select (i32.add (local.get $a1) (local.get $lda)) (local.get $a1) (i32.lt_u (i32.add (local.get $i) (i32.const 2)) (local.get $m))))
          (local.set $a3 (select (i32.add (local.get $a2) (local.get $lda)) (local.get $a2) (i32.lt_u (i32.add (local.get $i) (i32.const 3)) (local.get $m))))
          (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (local.get $c00))
          (local.set $c10 (local.get $c00)) (local.set $c11 (local.get $c00))
          (local.set $c20 (local.get $c00)) (local.set $c21 (local.get $c00))
          (local.set $c30 (local.get $c00)) (local.set $c31 (local.get $c00))
          (local.set $off (i32.const 0))
          (block $vdone
            (br_if $vdone (i32.eqz (local.get $vec)))
            (loop $vloop
              (local.set $y0 (v128.load (i32.add (local.get $b0) (local.get $off))))
              (local.set $y1 (v128.load (i32.add (local.get $b1) (local.get $off))))
              (local.set $x0 (v128.load (i32.add (local.get $a0) (local.get $off))))
              (local.set $c00 (MADD (local.get $x0) (local.get $y0) (local.get $c00)))
              (local.set $c01 (MADD (local.get $x0) (local.get $y1) (local.get $c01)))
              (local.set $x1 (v128.load (i32.add (local.get $a1) (local.get $off))))
              (local.set $c10 (MADD (local.get $x1) (local.get $y0) (local.get $c10)))
              (local.set $c11 (MADD (local.get $x1) (local.get $y1) (local.get $c11)))
              (local.set $x2 (v128.load (i32.add (local.get $a2) (local.get $off))))
              (local.set $c20 (MADD (local.get $x2) (local.get $y0) (local.get $c20)))
              (local.set $c21 (MADD (local.get $x2) (local.get $y1) (local.get $c21)))
              (local.set $x3 (v128.load (i32.add (local.get $a3) (local.get $off))))
              (local.set $c30 (MADD (local.get $x3) (local.get $y0) (local.get $c30)))
              (local.set $c31 (MADD (local.get $x3) (local.get $y1) (local.get $c31)))
              (br_if $vloop (i32.lt_u (local.tee $off (i32.add (local.get $off) (i32.const 16))) (local.get $vec)))))
          (local.set $s00 (call $hsum (local.get $c00))) (local.set $s01 (call $hsum (local.get $c01)))
          (local.set $s10 (call $hsum (local.get $c10))) (local.set $s11 (call $hsum (local.get $c11)))
          (local.set $s20 (call $hsum (local.get $c20))) (local.set $s21 (call $hsum (local.get $c21)))
          (local.set $s30 (call $hsum (local.get $c30))) (local.set $s31 (call $hsum (local.get $c31)))
          ;; the block's last len mod 4 floats
          (local.set $t (local.get $vec))
          (block $tdone
            (loop $tloop
              (br_if $tdone (i32.ge_u (local.get $t) (i32.shl (local.get $len) (i32.const 2))))
              (local.set $g0 (f32.load (i32.add (local.get $b0) (local.get $t))))
              (local.set $g1 (f32.load (i32.add (local.get $b1) (local.get $t))))
              (local.set $f0 (f32.load (i32.add (local.get $a0) (local.get $t))))
              (local.set $f1 (f32.load (i32.add (local.get $a1) (local.get $t))))
              (local.set $f2 (f32.load (i32.add (local.get $a2) (local.get $t))))
              (local.set $f3 (f32.load (i32.add (local.get $a3) (local.get $t))))
              (local.set $s00 (f32.add (local.get $s00) (f32.mul (local.get $f0) (local.get $g0))))
              (local.set $s01 (f32.add (local.get $s01) (f32.mul (local.get $f0) (local.get $g1))))
              (local.set $s10 (f32.add (local.get $s10) (f32.mul (local.get $f1) (local.get $g0))))
              (local.set $s11 (f32.add (local.get $s11) (f32.mul (local.get $f1) (local.get $g1))))
              (local.set $s20 (f32.add (local.get $s20) (f32.mul (local.get $f2) (local.get $g0))))
              (local.set $s21 (f32.add (local.get $s21) (f32.mul (local.get $f2) (local.get $g1))))
              (local.set $s30 (f32.add (local.get $s30) (f32.mul (local.get $f3) (local.get $g0))))
              (local.set $s31 (f32.add (local.get $s31) (f32.mul (local.get $f3) (local.get $g1))))
              (local.set $t (i32.add (local.get $t) (i32.const 4)))
              (br $tloop)))
          ;; add into C (the first block stores), rows i..i+3 < m, columns j, j+1 < n
          (local.set $cp (i32.add (local.get $c) (i32.add (i32.mul (local.get $i) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 2)))))
          (call $acc2 (local.get $cp) (local.get $s00) (local.get $s01) (local.get $k0) (i32.sub (local.get $n) (local.get $j)))
          (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $m))
            (then (call $acc2 (i32.add (local.get $cp) (local.get $ldc)) (local.get $s10) (local.get $s11) (local.get $k0) (i32.sub (local.get $n) (local.get $j)))))
          (if (i32.lt_u (i32.add (local.get $i) (i32.const 2)) (local.get $m))
            (then (call $acc2 (i32.add (local.get $cp) (i32.shl (local.get $ldc) (i32.const 1))) (local.get $s20) (local.get $s21) (local.get $k0) (i32.sub (local.get $n) (local.get $j)))))
          (if (i32.lt_u (i32.add (local.get $i) (i32.const 3)) (local.get $m))
            (then (call $acc2 (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 3))) (local.get $s30) (local.get $s31) (local.get $k0) (i32.sub (local.get $n) (local.get $j)))))
          (br_if $iloop (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $m))))
        (br_if $jloop (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 2))) (local.get $n))))
      (br_if $kloop (i32.lt_u (local.tee $k0 (i32.add (local.get $k0) (local.get $kc))) (local.get $k)))))

  ;; p[0] (+)= x and, when cols ≥ 2, p[1] (+)= y: stored when first is 0, added otherwise.
  (func $acc2 (param $p i32) (param $x f32) (param $y f32) (param $first i32) (param $cols i32)
    (if (local.get $first)
      (then
        (local.set $x (f32.add (local.get $x) (f32.load (local.get $p))))
        (if (i32.ge_u (local.get $cols) (i32.const 2)) (then (local.set $y (f32.add (local.get $y) (f32.load offset=4 (local.get $p))))))))
    (f32.store (local.get $p) (local.get $x))
    (if (i32.ge_u (local.get $cols) (i32.const 2)) (then (f32.store offset=4 (local.get $p) (local.get $y)))))

  ;; One Adam / AdamW step over n floats, in one pass (the same float32 operations, in the same order,
  ;; as matchlab's optimiser composes from tfjs ops, so the result is the same):
  ;;   g' = g + l2·w;  m = b1·m + (1−b1)·g';  v = b2·v + (1−b2)·g'²
  ;;   u = (m / bc1) / (sqrt(v / bc2) + eps) + dec·w;  w = w − lr·u
  ;; l2 is Adam's weight decay (0 for AdamW), dec AdamW's (0 for Adam); the terms with 0 are skipped.
  ;; m, v and w are written to mo, vo and wo (which may be m, v and w). Scalars come as float32 bit
  ;; patterns (pool calls pass integers): b1, 1−b1, b2, 1−b2, bc1, bc2, eps, lr, l2, dec.
  (func (export "adam") (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $wo i32) (param $mo i32) (param $vo i32) (param $n i32)
      (param $b1 i32) (param $nb1 i32) (param $b2 i32) (param $nb2 i32) (param $bc1 i32) (param $bc2 i32) (param $eps i32) (param $lr i32) (param $l2 i32) (param $dec i32)
    (local $i i32) (local $end i32) (local $vend i32)
    (local $vb1 v128) (local $vnb1 v128) (local $vb2 v128) (local $vnb2 v128) (local $vbc1 v128) (local $vbc2 v128) (local $veps v128) (local $vlr v128) (local $vl2 v128) (local $vdec v128)
    (local $wv v128) (local $gv v128) (local $mv v128) (local $vv v128) (local $u v128)
    (local $fw f32) (local $fg f32) (local $fm f32) (local $fv f32) (local $fu f32)
    (local.set $vb1 (f32x4.splat (f32.reinterpret_i32 (local.get $b1))))
    (local.set $vnb1 (f32x4.splat (f32.reinterpret_i32 (local.get $nb1))))
    (local.set $vb2 (f32x4.splat (f32.reinterpret_i32 (local.get $b2))))
    (local.set $vnb2 (f32x4.splat (f32.reinterpret_i32 (local.get $nb2))))
    (local.set $vbc1 (f32x4.splat (f32.reinterpret_i32 (local.get $bc1))))
    (local.set $vbc2 (f32x4.splat (f32.reinterpret_i32 (local.get $bc2))))
    (local.set $veps (f32x4.splat (f32.reinterpret_i32 (local.get $eps))))
    (local.set $vlr (f32x4.splat (f32.reinterpret_i32 (local.get $lr))))
    (local.set $vl2 (f32x4.splat (f32.reinterpret_i32 (local.get $l2))))
    (local.set $vdec (f32x4.splat (f32.reinterpret_i32 (local.get $dec))))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $i) (local.get $vend)))
        (local.set $wv (v128.load (i32.add (local.get $w) (local.get $i))))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $i))))
        (if (local.get $l2) (then (local.set $gv (f32x4.add (local.get $gv) (f32x4.mul (local.get $wv) (local.get $vl2))))))
        (local.set $mv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (local.get $vb1)) (f32x4.mul (local.get $gv) (local.get $vnb1))))
        (local.set $vv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (local.get $vb2))
          (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $vnb2))))
        (local.set $u (f32x4.div (f32x4.div (local.get $mv) (local.get $vbc1))
          (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (local.get $vbc2))) (local.get $veps))))
        (if (local.get $dec) (then (local.set $u (f32x4.add (local.get $u) (f32x4.mul (local.get $wv) (local.get $vdec))))))
        (v128.store (i32.add (local.get $mo) (local.get $i)) (local.get $mv))
        (v128.store (i32.add (local.get $vo) (local.get $i)) (local.get $vv))
        (v128.store (i32.add (local.get $wo) (local.get $i)) (f32x4.sub (local.get $wv) (f32x4.mul (local.get $u) (local.get $vlr))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vloop)))
    (block $sdone
      (loop $sloop
        (br_if $sdone (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $fw (f32.load (i32.add (local.get $w) (local.get $i))))
        (local.set $fg (f32.load (i32.add (local.get $g) (local.get $i))))
        (if (local.get $l2) (then (local.set $fg (f32.add (local.get $fg) (f32.mul (local.get $fw) (f32.reinterpret_i32 (local.get $l2)))))))
        (local.set $fm (f32.add (f32.mul (f32.load (i32.add (local.get $m) (local.get $i))) (f32.reinterpret_i32 (local.get $b1))) (f32.mul (local.get $fg) (f32.reinterpret_i32 (local.get $nb1)))))
        (local.set $fv (f32.add (f32.mul (f32.load (i32.add (local.get $v) (local.get $i))) (f32.reinterpret_i32 (local.get $b2)))
          (f32.mul (f32.mul (local.get $fg) (local.get $fg)) (f32.reinterpret_i32 (local.get $nb2)))))
        (local.set $fu (f32.div (f32.div (local.get $fm) (f32.reinterpret_i32 (local.get $bc1)))
          (f32.add (f32.sqrt (f32.div (local.get $fv) (f32.reinterpret_i32 (local.get $bc2)))) (f32.reinterpret_i32 (local.get $eps)))))
        (if (local.get $dec) (then (local.set $fu (f32.add (local.get $fu) (f32.mul (local.get $fw) (f32.reinterpret_i32 (local.get $dec)))))))
        (f32.store (i32.add (local.get $mo) (local.get $i)) (local.get $fm))
        (f32.store (i32.add (local.get $vo) (local.get $i)) (local.get $fv))
        (f32.store (i32.add (local.get $wo) (local.get $i)) (f32.sub (local.get $fw) (f32.mul (local.get $fu) (f32.reinterpret_i32 (local.get $lr)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $sloop))))

  ;; e^x of a f32x4: x = n·ln2 + r (n the nearest integer to x·log2 e, ln2 in two parts), e^r by Cephes'
  ;; expf polynomial (|r| ≤ ln2/2, ~1 ulp), times 2^n as two powers of two (so that n from −150 to 254
  ;; under- and overflows as e^x does). x is clamped to [−104, 89] first (beyond it e^x is 0 or ∞ in
  ;; float32); NaN stays NaN.
  (func $exp4 (param $x v128) (result v128)
    (local $n v128) (local $r v128) (local $y v128) (local $r2 v128) (local $ni v128) (local $h v128)
    (local.set $x (f32x4.max (f32x4.min (local.get $x) (v128.const f32x4 89 89 89 89)) (v128.const f32x4 -104 -104 -104 -104)))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
    (local.set $r (f32x4.sub (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375)))
      (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $r2 (f32x4.mul (local.get $r) (local.get $r)))
    (local.set $y (v128.const f32x4 1.9875691500E-4 1.9875691500E-4 1.9875691500E-4 1.9875691500E-4))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (v128.const f32x4 1.3981999507E-3 1.3981999507E-3 1.3981999507E-3 1.3981999507E-3)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (v128.const f32x4 8.3334519073E-3 8.3334519073E-3 8.3334519073E-3 8.3334519073E-3)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (v128.const f32x4 4.1665795894E-2 4.1665795894E-2 4.1665795894E-2 4.1665795894E-2)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (v128.const f32x4 1.6666665459E-1 1.6666665459E-1 1.6666665459E-1 1.6666665459E-1)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $r)) (v128.const f32x4 5.0000001201E-1 5.0000001201E-1 5.0000001201E-1 5.0000001201E-1)))
    (local.set $y (f32x4.add (f32x4.add (f32x4.mul (local.get $y) (local.get $r2)) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    ;; 2^n = 2^h · 2^(n−h), h = n >> 1
    (local.set $ni (i32x4.trunc_sat_f32x4_s (local.get $n)))
    (local.set $h (i32x4.shr_s (local.get $ni) (i32.const 1)))
    (f32x4.mul
      (f32x4.mul (local.get $y) (i32x4.shl (i32x4.add (local.get $h) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
      (i32x4.shl (i32x4.add (i32x4.sub (local.get $ni) (local.get $h)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))

  ;; out = e^x over n floats (n ≥ 4; a last partial vector is done as the last 4 floats again).
  (func (export "exp") (param $x i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32)
    (if (i32.lt_u (local.get $n) (i32.const 4)) (then (return)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (loop $next
      (if (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)) (then (local.set $i (i32.sub (local.get $end) (i32.const 16)))))
      (v128.store (i32.add (local.get $out) (local.get $i)) (call $exp4 (v128.load (i32.add (local.get $x) (local.get $i)))))
      (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $end)))))
)
