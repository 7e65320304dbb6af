;;; Continuations re-entered after set!: variables are locations, so a
;;; re-entered continuation sees the latest value, not the one at capture.

;; The report's case: a loop written with call/cc that counts with set!.
(test '(103 3)
      (let ((k #f) (n 0))
        (let ((v (+ 100 (call/cc (lambda (c) (set! k c) 1)))))
          (set! n (+ n 1))
          (if (< n 3) (k (- v 99)) (list v n)))))

;; A re-entered loop that counts in a local nothing captures.
(test 5
      (let ((count 0) (again #f))
        (call/cc (lambda (c) (set! again c)))
        (set! count (+ count 1))
        (if (< count 5) (again #f))
        count))

;; amb-style backtracking: every choice point is a re-entered continuation,
;; the number of tries is counted with set!.
(define (solve)
  (let ((fail-stack '()) (tries 0))
    (define (fail) (if (null? fail-stack) (error "no more choices") (let ((k (car fail-stack))) (set! fail-stack (cdr fail-stack)) (k #f))))
    (define (amb choices)
      (call/cc (lambda (return)
                 (for-each (lambda (choice)
                             (call/cc (lambda (next)
                                        (set! fail-stack (cons next fail-stack))
                                        (return choice))))
                           choices)
                 (fail))))
    (let* ((a (amb '(1 2 3 4 5 6 7)))
           (b (amb '(1 2 3 4 5 6 7)))
           (c (amb '(1 2 3 4 5 6 7))))
      (set! tries (+ tries 1))
      (if (not (and (< a b) (= (+ (* a a) (* b b)) (* c c)))) (fail))
      (list a b c tries))))
(test '(3 4 5 ...) (let ((r (solve))) (list (car r) (cadr r) (caddr r) '...)))
(test #t (> (cadddr (solve)) 100))   ; every backtrack was counted

;; A generator: each call re-enters the producer where it left off; the
;; producer's position is a local changed with set!.
(define (make-generator items)
  (define return #f)
  (define (producer)
    (let loop ((rest items) (position 0))
      (unless (null? rest)
        (call/cc (lambda (resume)
                   (set! producer (lambda () (resume #f)))
                   (return (cons position (car rest)))))
        (loop (cdr rest) (+ position 1))))
    (return 'done))
  (lambda () (call/cc (lambda (r) (set! return r) (producer)))))
(define g (make-generator '(a b c)))
(test '((0 . a) (1 . b) (2 . c) done done) (let* ((x (g)) (y (g)) (z (g)) (w (g)) (v (g))) (list x y z w v)))

;; set! inside a dynamic-wind re-entered through a continuation.
(test '(in out in out)
      (let ((trace '()) (k #f) (times 0))
        (dynamic-wind (lambda () (set! trace (cons 'in trace)))
                      (lambda () (call/cc (lambda (c) (set! k c))) (set! times (+ times 1)))
                      (lambda () (set! trace (cons 'out trace))))
        (if (< times 2) (k #f))
        (reverse trace)))

;; Many re-entries: a loop driven only by re-entering one continuation
;; 5,000 times, allocating as it goes (run under OMEGA_GC_STRESS=1 by
;; SchemeSuiteTests, so collections happen between re-entries).
(test (quote (5000 5000))
      (let ((k #f) (n 0) (acc '()))
        (call/cc (lambda (c) (set! k c)))
        (set! n (+ n 1))
        (set! acc (cons (list n (make-vector 3 n)) acc))
        (if (< n 5000) (k #f) (list n (length acc)))))

;; A generator over a tree, resumed through continuations for every leaf.
(define (tree->generator tree)
  (define return #f)
  (define (walk t)
    (cond ((null? t) 'skip)
          ((pair? t) (walk (car t)) (walk (cdr t)))
          (else (call/cc (lambda (resume) (set! walk-rest resume) (return t))))))
  (define walk-rest #f)
  (lambda ()
    (call/cc (lambda (r)
               (set! return r)
               (if walk-rest
                   (walk-rest #f)
                   (begin (walk tree) (return 'done)))))))
(define (big-tree n) (if (= n 0) '() (cons (list n (* n n)) (big-tree (- n 1)))))
(test 1000
      (let ((g (tree->generator (big-tree 500))))
        (let loop ((count 0))
          (if (eq? (g) 'done) count (loop (+ count 1))))))
