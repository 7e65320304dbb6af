;;; Omega base library: the procedures of R7RS (scheme base) that are
;;; simplest to write in Scheme, on top of the Swift primitives.

(define (call-with-values producer consumer)
  (let ((v (producer)))
    (if (%multiple-values? v)
        (apply consumer (%values->list v))
        (consumer v))))

;; (map f list ...) stops at the end of the shortest list.
(define (map f l . ls)
  (if (null? ls)
      (let loop ((l l) (acc '()))
        (if (pair? l)
            (loop (cdr l) (cons (f (car l)) acc))
            (reverse acc)))
      (let loop ((ls (cons l ls)) (acc '()))
        (if (%all-pairs? ls)
            (loop (%cdrs ls) (cons (apply f (%cars ls)) acc))
            (reverse acc)))))

(define (for-each f l . ls)
  (if (null? ls)
      (let loop ((l l))
        (if (pair? l)
            (begin (f (car l)) (loop (cdr l)))))
      (let loop ((ls (cons l ls)))
        (if (%all-pairs? ls)
            (begin (apply f (%cars ls)) (loop (%cdrs ls)))))))

(define (%all-pairs? ls)
  (or (null? ls) (and (pair? (car ls)) (%all-pairs? (cdr ls)))))
(define (%cars ls) (if (null? ls) '() (cons (caar ls) (%cars (cdr ls)))))
(define (%cdrs ls) (if (null? ls) '() (cons (cdar ls) (%cdrs (cdr ls)))))

;; member and assoc take an optional equality predicate (R7RS).
(define (member x l . compare)
  (if (null? compare)
      (%member x l)
      (let ((same? (car compare)))
        (let loop ((l l))
          (cond ((not (pair? l)) #f)
                ((same? x (car l)) l)
                (else (loop (cdr l))))))))

(define (assoc x l . compare)
  (if (null? compare)
      (%assoc x l)
      (let ((same? (car compare)))
        (let loop ((l l))
          (cond ((not (pair? l)) #f)
                ((same? x (caar l)) (car l))
                (else (loop (cdr l))))))))

(define (list-set! l k v) (set-car! (list-tail l k) v))

(define (string-for-each f s . ss)
  (apply for-each f (string->list s) (map string->list ss)))

(define (string-map f s . ss)
  (list->string (apply map f (string->list s) (map string->list ss))))

(define (vector-for-each f v . vs)
  (apply for-each f (vector->list v) (map vector->list vs)))

(define (vector-map f v . vs)
  (list->vector (apply map f (vector->list v) (map vector->list vs))))
