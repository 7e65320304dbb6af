;;; Lists (the SRFI 1 procedures people reach for), sorting, hash-table
;;; procedures that take procedures, and file and input-port helpers.

(define (iota count . rest)
  (let ((start (if (pair? rest) (car rest) 0))
        (step (if (and (pair? rest) (pair? (cdr rest))) (cadr rest) 1)))
    (let loop ((i (- count 1)) (acc '()))
      (if (< i 0) acc (loop (- i 1) (cons (+ start (* i step)) acc))))))

(define (first l) (car l))
(define (second l) (cadr l))
(define (third l) (caddr l))
(define (last l) (car (last-pair l)))

(define (filter keep? l)
  (let loop ((l l) (acc '()))
    (cond ((null? l) (reverse acc))
          ((keep? (car l)) (loop (cdr l) (cons (car l) acc)))
          (else (loop (cdr l) acc)))))

(define (remove drop? l) (filter (lambda (x) (not (drop? x))) l))

(define (partition keep? l)
  (let loop ((l l) (in '()) (out '()))
    (cond ((null? l) (values (reverse in) (reverse out)))
          ((keep? (car l)) (loop (cdr l) (cons (car l) in) out))
          (else (loop (cdr l) in (cons (car l) out))))))

(define (fold kons knil l . ls)
  (if (null? ls)
      (let loop ((l l) (acc knil))
        (if (pair? l) (loop (cdr l) (kons (car l) acc)) acc))
      (let loop ((ls (cons l ls)) (acc knil))
        (if (%all-pairs? ls)
            (loop (%cdrs ls) (apply kons (append (%cars ls) (list acc))))
            acc))))

(define (fold-right kons knil l . ls)
  (if (null? ls)
      (let loop ((l (reverse l)) (acc knil))
        (if (pair? l) (loop (cdr l) (kons (car l) acc)) acc))
      (apply fold-right-n kons knil l ls)))

(define (fold-right-n kons knil . ls)
  (let recur ((ls ls))
    (if (%all-pairs? ls)
        (apply kons (append (%cars ls) (list (recur (%cdrs ls)))))
        knil)))

(define (reduce f ridentity l)
  (if (null? l) ridentity (fold f (car l) (cdr l))))

(define (append-map f l . ls) (apply append (apply map f l ls)))

(define (filter-map f l . ls)
  (filter (lambda (x) x) (apply map f l ls)))

(define (find pred l)
  (let ((tail (find-tail pred l))) (and tail (car tail))))

(define (find-tail pred l)
  (let loop ((l l))
    (cond ((not (pair? l)) #f) ((pred (car l)) l) (else (loop (cdr l))))))

(define (any pred l . ls)
  (if (null? ls)
      (let loop ((l l))
        (and (pair? l) (or (pred (car l)) (loop (cdr l)))))
      (let loop ((ls (cons l ls)))
        (and (%all-pairs? ls) (or (apply pred (%cars ls)) (loop (%cdrs ls)))))))

(define (every pred l . ls)
  (if (null? ls)
      (let loop ((l l) (last #t))
        (if (pair? l) (let ((r (pred (car l)))) (and r (loop (cdr l) r))) last))
      (let loop ((ls (cons l ls)) (last #t))
        (if (%all-pairs? ls) (let ((r (apply pred (%cars ls)))) (and r (loop (%cdrs ls) r))) last))))

(define (count pred l)
  (let loop ((l l) (n 0)) (if (pair? l) (loop (cdr l) (if (pred (car l)) (+ n 1) n)) n)))

(define (list-index pred l)
  (let loop ((l l) (i 0))
    (cond ((not (pair? l)) #f) ((pred (car l)) i) (else (loop (cdr l) (+ i 1))))))

(define (delete x l . same)
  (let ((same? (if (pair? same) (car same) equal?)))
    (filter (lambda (y) (not (same? x y))) l)))

(define (delete-duplicates l . same)
  (let ((same? (if (pair? same) (car same) equal?)))
    (let loop ((l l) (acc '()))
      (cond ((null? l) (reverse acc))
            ((any (lambda (y) (same? (car l) y)) acc) (loop (cdr l) acc))
            (else (loop (cdr l) (cons (car l) acc)))))))

(define (take l k) (if (= k 0) '() (cons (car l) (take (cdr l) (- k 1)))))
(define (drop l k) (list-tail l k))

;; Stable merge sort; (sort sequence less?) also accepts (sort less? sequence).
(define (list-sort less? l)
  (define (merge a b)
    (cond ((null? a) b)
          ((null? b) a)
          ((less? (car b) (car a)) (cons (car b) (merge a (cdr b))))
          (else (cons (car a) (merge (cdr a) b)))))
  (define (sort-n l n)
    (if (<= n 1)
        (if (= n 1) (list (car l)) '())
        (let ((half (quotient n 2)))
          (merge (sort-n l half) (sort-n (list-tail l half) (- n half))))))
  (sort-n l (length l)))

(define (sort seq less?)
  (if (procedure? seq)
      (sort less? seq)
      (if (vector? seq)
          (list->vector (list-sort less? (vector->list seq)))
          (list-sort less? seq))))

(define (vector-sort v less?)
  (if (procedure? v) (vector-sort less? v) (list->vector (list-sort less? (vector->list v)))))

;;; Hash tables (SRFI 69).

(define %missing (list 'missing))

(define (make-hash-table . args)
  (let ((same? (if (pair? args) (car args) equal?)))
    (%make-hash-table
     (cond ((eq? same? eq?) 'eq)
           ((eq? same? eqv?) 'eqv)
           ((eq? same? string=?) 'string)
           (else 'equal)))))

(define (hash-table-ref table key . fail)
  (let ((v (%hash-table-ref table key %missing)))
    (if (eq? v %missing)
        (if (pair? fail)
            ((car fail))
            (error "hash-table-ref: no such key:" key))
        v)))

(define (hash-table-ref/default table key default)
  (%hash-table-ref table key default))

(define (hash-table-update! table key proc . default)
  (hash-table-set! table key
                   (proc (if (pair? default)
                             (hash-table-ref table key (car default))
                             (hash-table-ref table key)))))

(define (hash-table-update!/default table key proc default)
  (hash-table-set! table key (proc (hash-table-ref/default table key default))))

(define (hash-table-walk table proc)
  (for-each (lambda (entry) (proc (car entry) (cdr entry))) (hash-table->alist table)))

(define (hash-table-fold table kons knil)
  (fold (lambda (entry acc) (kons (car entry) (cdr entry) acc)) knil (hash-table->alist table)))

(define (alist->hash-table alist . args)
  (let ((table (apply make-hash-table args)))
    (for-each (lambda (entry)
                (if (not (hash-table-contains? table (car entry)))
                    (hash-table-set! table (car entry) (cdr entry))))
              alist)
    table))

;;; Files and input ports (R7RS 6.13).

(define current-input-port
  (%make-parameter-procedure %current-input %set-current-input!
                             (lambda (p) (if (input-port? p) p (error "not an input port:" p)))))


(define (call-with-port port proc)
  (call-with-values (lambda () (proc port))
    (lambda results (close-port port) (apply values results))))

(define (call-with-input-file path proc) (call-with-port (open-input-file path) proc))
(define (call-with-output-file path proc) (call-with-port (open-output-file path) proc))

(define (with-input-from-file path thunk)
  (let ((port (open-input-file path)))
    (call-with-values (lambda () (parameterize ((current-input-port port)) (thunk)))
      (lambda results (close-port port) (apply values results)))))

(define (with-output-to-file path thunk)
  (let ((port (open-output-file path)))
    (call-with-values (lambda () (parameterize ((current-output-port port)) (thunk)))
      (lambda results (close-port port) (apply values results)))))


;;; Numbers and environments.

;; The simplest rational within y of x (R7RS 6.2.6).
(define (rationalize x y)
  (define (simplest-positive lo hi)
    (let ((fl (floor lo)))
      (cond ((= fl lo) fl)
            ((< fl (floor hi)) (+ fl 1))
            (else (+ fl (/ 1 (simplest-positive (/ 1 (- hi fl)) (/ 1 (- lo fl)))))))))
  (define (simplest lo hi)
    (cond ((= lo hi) lo)
          ((positive? lo) (simplest-positive lo hi))
          ((negative? hi) (- (simplest-positive (- hi) (- lo))))
          (else 0)))
  (let ((r (simplest (- x (abs y)) (+ x (abs y)))))
    (if (and (exact? x) (exact? y)) r (inexact r))))


(define (features)
  '(r7rs exact-closed ratios full-unicode swift omega))   ; as cond-expand knows them
