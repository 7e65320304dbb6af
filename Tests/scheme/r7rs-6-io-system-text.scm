;;; R7RS 6.6, 6.7, 6.13 and 6.14: what the earlier files left out —
;;; full Unicode case mapping, symbols written with bars, binary and file
;;; ports, optional start/end, port state, the environment, exit statuses.

;; 6.6/6.7 Case mapping: full folding for strings, simple for characters.
(test "strasse" (string-foldcase "Straße"))
(test #t (string-ci=? "Straße" "STRASSE"))
(test #t (string-ci=? "ΑΒΓ" "αβγ" "αβγ"))
(test "STRASSE" (string-upcase "straße"))
(test "χαος οδος." (string-downcase "ΧΑΟΣ ΟΔΟΣ."))   ; final sigma
(test "σ" (string-downcase "Σ"))                    ; alone it is not final
(test "σ" (string-foldcase "ς"))                    ; final sigma folds to sigma
(test #\ß (char-upcase #\ß))                        ; one character: no mapping to SS
(test #\ß (char-foldcase #\ß))
(test #\σ (char-foldcase #\Σ))
(test #\σ (char-foldcase #\ς))
(test #t (char-ci=? #\ς #\Σ #\σ))
(test "abdegh" (string-map char-foldcase "AbdEgH"))
(test 'abc (read (open-input-string "#!fold-case ABC")))
(test 'strasse (read (open-input-string "#!fold-case STRAßE")))
(test 4 (digit-value #\x0664))
(test 0 (digit-value #\x0AE6))
(test 7 (digit-value #\x1D7D5))                    ; mathematical bold digit seven
(test #f (digit-value #\x00BD))                    ; ½ is numeric, not a decimal digit

;; 6.5 Symbols that would not read back as themselves are written with bars.
(define (written x) (let ((o (open-output-string))) (write x o) (get-output-string o)))
(test "|+i|" (written (string->symbol "+i")))
(test "|-i|" (written (string->symbol "-i")))
(test "|+NaN.0abc|" (written (string->symbol "+NaN.0abc")))
(test "|\\\\123|" (written (string->symbol "\\123")))
(test "|1|" (written (string->symbol "1")))
(test "||" (written (string->symbol "")))
(test "|a b|" (written (string->symbol "a b")))
(test "|a\\|b|" (written (string->symbol "a|b")))
(test "..." (written '...))
(test "->x" (written '->x))
(test "+" (written '+))
(test "+a" (written '+a))
(test "λ" (written 'λ))
(test "+i" (symbol->string (read (open-input-string (written (string->symbol "+i"))))))
(test "+i" (let ((o (open-output-string))) (display (string->symbol "+i") o) (get-output-string o)))

;; 6.13 write-string with start and end.
(test "def" (let ((o (open-output-string))) (write-string "abc def" o 4) (get-output-string o)))
(test "c d" (let ((o (open-output-string))) (write-string "abc def" o 2 5) (get-output-string o)))
(test-error (write-string "abc" (open-output-string) 2 1))

;; Binary ports: read-bytevector!, flush, open?, close.
(test #t (eof-object? (read-bytevector! (bytevector 1 2 3) (open-input-bytevector #u8()))))
(test '(5 #u8(6 7 8 9 10))
      (let ((bv (bytevector 1 2 3 4 5)))
        (list (read-bytevector! bv (open-input-bytevector #u8(6 7 8 9 10))) bv)))
(test '(3 #u8(6 7 8 4 5))
      (let ((bv (bytevector 1 2 3 4 5)))
        (list (read-bytevector! bv (open-input-bytevector #u8(6 7 8 9 10)) 0 3) bv)))
(test #u8(1 2 3 6 5)
      (let ((bv (bytevector 1 2 3 4 5)))
        (read-bytevector! bv (open-input-bytevector #u8(6 7 8 9 10)) 3 4)
        bv))
(test '(2 #u8(0 1 2))                               ; fewer bytes left than asked
      (let ((bv (make-bytevector 3 0)) (in (open-input-bytevector #u8(1 2))))
        (list (read-bytevector! bv in 1) bv)))
(test #u8(3 4)
      (let ((out (open-output-bytevector)))
        (write-bytevector #u8(1 2 3 4 5) out 2 4)
        (flush-output-port out)
        (get-output-bytevector out)))
(test '(#t #f #f #t)
      (let ((in (open-input-bytevector #u8(1))) (out (open-output-bytevector)))
        (let ((before (input-port-open? in)))
          (close-port in)
          (close-output-port out)
          (list before (input-port-open? in) (output-port-open? out) (u8-ready? (open-input-bytevector #u8(1)))))))
(test #f (input-port-open? (open-output-string)))
(test #f (output-port-open? (open-input-string "x")))
(test-error (read-u8 (let ((p (open-input-bytevector #u8(1)))) (close-input-port p) p)))

;; Binary file ports round-trip, also when the port is flushed but not closed.
(define bin-file "omega-r7rs-binary.tmp")
(test #u8(0 127 128 255)
      (begin
        (call-with-port (open-binary-output-file bin-file)
          (lambda (out) (write-u8 0 out) (write-bytevector #u8(127 128 255) out)))
        (call-with-port (open-binary-input-file bin-file)
          (lambda (in) (read-bytevector 10 in)))))
(test #t (binary-port? (call-with-port (open-binary-input-file bin-file) (lambda (p) p))))
(test #t (input-port? (open-binary-input-file bin-file)))
(test #t (output-port? (let ((p (open-binary-output-file bin-file))) (close-port p) p)))
(test #u8(9)
      (let ((out (open-binary-output-file bin-file)))
        (write-u8 9 out)
        (flush-output-port out)
        (let ((got (call-with-port (open-binary-input-file bin-file) (lambda (in) (read-bytevector 10 in)))))
          (close-port out)
          got)))
(test #t (file-error? (guard (e (#t e)) (open-binary-input-file "/nonexistent/omega/file"))))
(delete-file bin-file)
(test #f (file-exists? bin-file))

;; Text files: with-input-from-file reads (current-input-port); call-with-port closes.
(define text-file "omega-r7rs-text.tmp")
(with-output-to-file text-file (lambda () (write '(1 "two" #\3)) (newline) (display "last line")))
(test '((1 "two" #\3) "" "last line")
      (with-input-from-file text-file
        (lambda () (let* ((a (read)) (b (read-line)) (c (read-line))) (list a b c)))))
(test #f (let ((p (open-input-file text-file))) (call-with-port p read) (input-port-open? p)))
(test #t (char-ready? (open-input-string "42")))
(delete-file text-file)

;; 6.14 The environment and time.
(test #t (let ((env (get-environment-variables)))
           (and (list? env) (pair? env)
                (let loop ((e env))
                  (or (null? e) (and (string? (caar e)) (string? (cdar e)) (loop (cdr e))))))))
(test (get-environment-variable "PATH") (cdr (assoc "PATH" (get-environment-variables))))
(test #t (exact-integer? (current-jiffy)))
(test #t (inexact? (current-second)))
(test #t (file-error? (guard (e (#t e)) (delete-file " no such file "))))

;; An exit status outside 0-255 is an error where exit is called, never a wrapped success.
(test-error (exit 256))
(test-error (exit (expt 2 70)))
(test-error (exit -1))
(test-error (exit 'done))
(test-error (emergency-exit 300))

;; read on a port goes on where the last datum ended (also across lines,
;; strings and comments), and reads a long port in one pass.
(test '((1 2 3) "a\nb" x #t)
      (let ((p (open-input-string "(1 2\n 3) \"a\nb\" ; comment\n x")))
        (let* ((a (read p)) (b (read p)) (c (read p)))
          (list a b c (eof-object? (read p))))))
(test '((sym) #\x "yz" sym2 #\space)
      (let ((p (open-input-string "(sym)xyz\nsym2 ")))
        (let* ((a (read p)) (b (read-char p)) (c (read-line p)) (d (read p)) (e (read-char p)))
          (list a b c d e))))
(test 20000
      (let ((p (open-input-string
                 (let ((o (open-output-string)))
                   (do ((i 0 (+ i 1))) ((= i 20000)) (write i o) (newline o))
                   (get-output-string o)))))
        (let loop ((n 0)) (if (eof-object? (read p)) n (loop (+ n 1))))))
