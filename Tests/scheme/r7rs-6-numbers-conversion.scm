;;; R7RS 6.2: conversions that must be exact — inexact of any rational is
;;; the nearest double (ties to even), big numbers print and read back, and
;;; short literals cannot demand huge numbers.

(test 9.999999999999998 (inexact 9999999999999998/1000000000000000))
(test 10.0 (inexact (/ (+ 1 (expt 10 330)) (expt 10 329))))   ; was one ulp low
(test 10.0 (inexact (/ (expt 10 400) (+ 1 (expt 10 399)))))
(test 0.3333333333333333 (inexact 1/3))
(test -3.142857142857143 (inexact -22/7))
(test 9007199254740992.0 (inexact (+ (expt 2 53) 1)))             ; a tie: to even
(test 9007199254740996.0 (inexact (+ (expt 2 53) 3)))             ; a tie: to even, upwards
(test 1.8014398509481992e16 (inexact (+ (expt 2 54) 6)))          ; above half: up
(test 1.2345678901234568e22 (inexact 12345678901234567890123))
(test 1e-320 (inexact (/ 1 (expt 10 320))))                     ; subnormal
(test 0.0 (inexact (/ 7 (expt 2 1080))))                         ; below the smallest subnormal
(test +inf.0 (inexact (expt 2 1024)))
(test -inf.0 (inexact (- (expt 2 1024))))
(test #t (= (inexact 1/3) (inexact (exact (inexact 1/3)))))
(test #t (let loop ((k 1))                                       ; round trips of n/7
           (or (> k 60)
               (let ((x (/ (expt 3 k) 7)))
                 (and (= (inexact x) (string->number (number->string (inexact x))))
                      (loop (+ k 1)))))))

;; Big integers in decimal: printing and reading are inverse, with any padding.
(define (round-trips? x) (= x (string->number (number->string x))))
(test #t (round-trips? (expt 10 5000)))
(test #t (round-trips? (- (expt 10 5000) 1)))
(test #t (round-trips? (- (expt 3 40000) 17)))
(test #t (round-trips? (- 7 (expt 2 70000))))
(test #t (round-trips? (/ (expt 10 4001) (- (expt 7 3000) 2))))
(test 20001 (string-length (number->string (expt 10 20000))))
(test "-100000000000000000007" (number->string (- -7 (expt 10 20))))
(test #t (let ((s (number->string (expt 10 6000))))
           (and (char=? (string-ref s 0) #\1)
                (string=? (substring s 1 6001) (make-string 6000 #\0)))))
(test (* 7 (quotient (- (expt 10 3000) 1) 9))                    ; 3000 sevens
      (string->number (make-string 3000 #\7)))

;; A short literal may not build a huge exact number.
(test #f (string->number "#e1e100000000"))
(test #f (string->number "#e1e99999999999999999999"))
(test (expt 10 400) (string->number "#e1e400"))
(test 1/1000 (string->number "#e1e-3"))
(test-error (read (open-input-string "#e1e999999")))
(test #t (guard (e ((read-error? e) (string? (error-object-message e)))) (read (open-input-string "#e1e999999"))))
