; Count the solutions of the 9-queens problem with lists.
(define (ok? row dist placed)
  (or (null? placed)
      (and (not (= (car placed) (+ row dist)))
           (not (= (car placed) (- row dist)))
           (not (= (car placed) row))
           (ok? row (+ dist 1) (cdr placed)))))
(define (try-rows n row placed k)
  (if (> row n) 0
      (+ (if (ok? row 1 placed) (queens n (cons row placed) (- k 1)) 0)
         (try-rows n (+ row 1) placed k))))
(define (queens n placed k)
  (if (= k 0) 1 (try-rows n 1 placed k)))
(display (queens 9 '() 9)) (newline)
