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

;; Redefined after compilation: the slow path calls the new procedure and
;; the value is still pushed where the fused instruction would have put it.
(set! - (lambda (a b) (list 'minus a b)))
(test '((minus 11 1) 12) (around 11))
(set! + (lambda (a b) (list 'plus a b)))
(test '((minus 11 1) (plus 11 1)) (around 11))

