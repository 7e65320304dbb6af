;;; Redefining built-ins (in a file of its own: it changes + and < for
;;; everything after it).

;; A redefined built-in is honoured by code compiled before the redefinition.
(define (add-one x) (+ x 1))
(define (less-than-five? x) (< x 5))
(define (first x) (car x))
(test 2 (add-one 1))
(set! + (lambda (a b) (list 'plus a b)))
(test '(plus 1 1) (add-one 1))
(set! < (lambda (a b) 'mine))
(test 'mine (less-than-five? 1))
(define (car x) 'my-car)
(test 'my-car (first '(1 2)))

;; The standard library keeps the procedures it was written against
;; (R7RS: a program's definitions do not change the libraries it imports).
(define (length x) 0)
(define (list-tail x k) 'my-list-tail)
(define (cdr x) 'my-cdr)
(define (apply . args) 'my-apply)
(test 0 (length '(1 2 3)))
(test 'caught (guard (e (#t 'caught)) (raise 'boom)))
(test 42 (guard (e ((symbol? e) 42)) (raise 'boom)))
(test "boom" (guard (e ((error-object? e) (error-object-message e))) (error "boom" 1 2)))
(test '(42 23) (with-exception-handler (lambda (c) 42) (lambda () (list (raise-continuable 'c) 23))))
(test 3 (call/cc (lambda (k) (dynamic-wind (lambda () #f) (lambda () (k 3)) (lambda () #f)))))
(test '((1) (2) (3)) (map list '(1 2 3)))
(test '(1 2) (call-with-values (lambda () (values 1 2)) list))
(test '(b c) (member 'b '(a b c)))

(test "1100" (parameterize () (number->string 12 2)))

