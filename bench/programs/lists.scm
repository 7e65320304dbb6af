; Build, map and sum a 1,000,000-element list, ten times (allocation and GC).
(define (iota-list n)
  (let loop ((i (- n 1)) (acc '()))
    (if (< i 0) acc (loop (- i 1) (cons i acc)))))
(define (sum l) (let loop ((l l) (acc 0)) (if (null? l) acc (loop (cdr l) (+ acc (car l))))))
(define (double-all l) (let loop ((l l) (acc '())) (if (null? l) (reverse acc) (loop (cdr l) (cons (* 2 (car l)) acc)))))
(define (run k total)
  (if (= k 0) total (run (- k 1) (+ total (sum (double-all (iota-list 1000000)))))))
(display (run 10 0)) (newline)
