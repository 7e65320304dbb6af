(define (helper s) (string-upcase s))
(define (shout s) (c:next!) (helper s))
