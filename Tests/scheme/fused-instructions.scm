;;; Fused instructions (issue 18) keep every rule of the instructions they
;;; replace: built-ins redefined after compilation are honoured, errors are
;;; caught, tail calls run in constant space. (A file of its own: it
;;; redefines + and -.)

;; (+ x 1) / (- x 1) whose value is pushed as an argument.
(define (around x) (list (- x 1) (+ x 1)))
(test '(10 12) (around 11))
(test '(10.5 12.5) (around 11.5))
(test '(-4611686018427387905 -4611686018427387903) (around -4611686018427387904))
(test 'wrong-type (guard (e (#t 'wrong-type)) (around "eleven")))

;; A call of a global procedure, and a tail call of one.
(define (callee x) (* x 2))
(define (caller x) (+ (callee x) 1))
(define (tail-caller x) (callee x))
(test 9 (caller 4))
(test 8 (tail-caller 4))
(set! callee (lambda (x) (* x 3)))
(test 13 (caller 4))
(test 12 (tail-caller 4))
(define (count-down n) (if (= n 0) 'done (count-down (- n 1))))
(test 'done (count-down 1000000))
(define (even-odd n) (if (= n 0) 'even (odd-even (- n 1))))
(define (odd-even n) (if (= n 0) 'odd (even-odd (- n 1))))
(test 'even (even-odd 100000))
(define (calls-missing x) (not-defined-anywhere x))
(test 'unbound (guard (e (#t 'unbound)) (calls-missing 1)))
(define not-a-procedure 5)
(define (calls-five) (not-a-procedure 1))
(test 'not-procedure (guard (e (#t 'not-procedure)) (calls-five)))
(define (two-args a b) (list a b))
(define (calls-with-one) (two-args 1))
(test 'arity (guard (e (#t 'arity)) (calls-with-one)))
(define (escape k) (k 42))
(define (through-call/cc) (+ 1 (call/cc (lambda (k) (escape k)))))
(test 43 (through-call/cc))
(define (apply-through f) (f 1 2))
(test '(1 2) (apply-through list))
(test 3 (apply-through +))

;; CALLGLOBAL writes its frame header below arguments already pushed:
;; a continuation taken while they are evaluated, an error among them and a
;; deep recursion through it keep their meaning.
(define (add3 a b c) (+ a b c))
(define (reenter)
  (let ((again #f) (n 0) (results '()))
    (let ((r (add3 1 (call/cc (lambda (k) (set! again k) 10)) 100)))
      (set! results (cons r results))
      (set! n (+ n 1))
      (if (< n 3) (again (* n 20)) (reverse results)))))
(test '(111 121 141) (reenter))
(test 'caught (guard (e (#t 'caught)) (add3 1 (car '()) 3)))
(test 6 (add3 1 2 3))
(define (depth n) (if (= n 0) 0 (+ 1 (depth (- n 1)))))
(test 100000 (depth 100000))
(define (nested-args x) (add3 (add3 x x x) (add3 1 (add3 x 1 1) 1) x))
(test 19 (nested-args 3))

;; A return into a PUSH pushes in place, and a fixnum + before RETURN
;; returns in place: the values must land where the skipped instructions
;; would have put them, also when a continuation re-enters an argument.
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(test 6765 (fib 20))
(define (sum-list l) (if (null? l) 0 (+ (car l) (sum-list (cdr l)))))
(test 55 (sum-list '(1 2 3 4 5 6 7 8 9 10)))
(define (same x) x)
(define (three-args a b c) (list a b c))
(test '(1 (2) 3) (three-args (same 1) (list (same 2)) (same 3)))
(define (reenter-pushed)
  (let ((k #f) (results '()))
    (let ((r (+ (same (call/cc (lambda (c) (set! k c) 1))) (same 10))))
      (set! results (cons r results))
      (if (< (length results) 3) (k (* 2 (length results))) (reverse results)))))
(test '(11 12 14) (reenter-pushed))
(define (grow-sum n) (if (= n 0) 4611686018427387900 (+ 1 (grow-sum (- n 1)))))
(test 4611686018427387910 (grow-sum 10))

;; Exact integers with a large operand, and complex numbers, take the
;; inlined instructions' slow path straight to the number tower.
(test 4611686018427387904 (+ 4611686018427387903 1))
(test -4611686018427387905 (- -4611686018427387904 1))
(test 21267647932558653966460912964485513216 (* 4611686018427387904 4611686018427387904))
(test #t (< 4611686018427387903 (+ 4611686018427387903 1)))
(test #t (= (expt 2 100) (* (expt 2 50) (expt 2 50))))
(test #f (< (expt 2 100) (expt 2 99)))
(test #t (>= (expt 2 100) (expt 2 100)))
(test #t (> (expt 2 100) 1.0e29))
(test 0 (- (expt 3 90) (expt 3 90)))
(test 5 (* 1+2i 1-2i))
(test 4+2i (+ 1+2i 3))
(test -2+2i (- 1+2i 3))
(test 'wrong-type (guard (e (#t 'wrong-type)) (+ 1+2i "x")))
(test 'wrong-type (guard (e (#t 'wrong-type)) (< (expt 2 100) 'x)))

;; Redefined after compilation: the slow path calls the new procedure and
;; the value is still pushed where the fused instruction would have put it.
(set! - (lambda (a b) (list 'minus a b)))
(test '((minus 11 1) 12) (around 11))
(set! + (lambda (a b) (list 'plus a b)))
(test '((minus 11 1) (plus 11 1)) (around 11))

