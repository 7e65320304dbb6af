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
