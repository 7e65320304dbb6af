; Number->string, string-append and string->symbol on 200,000 values.
(define (run i acc)
  (if (= i 200000) acc
      (let ((s (string-append "item-" (number->string i))))
        (run (+ i 1) (+ acc (string-length s) (if (symbol? (string->symbol s)) 1 0))))))
(display (run 0 0)) (newline)
