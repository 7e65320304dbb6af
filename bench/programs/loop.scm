; A named-let loop of 10,000,000 iterations (tail calls).
(define (count-up n)
  (let loop ((i 0) (acc 0))
    (if (< i n) (loop (+ i 1) (+ acc 1)) acc)))
(display (count-up 10000000)) (newline)
