;; N model calls through the whole path: a pass-through effect handler, the
;; meter (a with-budget scope, the run, the model), the ledger, and the
;; simulator at zero latency. Prints calls per second.
(define n (string->number (cadr (command-line))))
(define start (current-jiffy))
(with-effect-handler 'infer.op (lambda (request next) (next request))
  (lambda ()
    (with-budget (* n 100)
      (lambda ()
        (let loop ((i 0))
          (when (< i n)
            (effect infer.op "Summarise the meeting notes." 'max-tokens 16)
            (loop (+ i 1))))))))
(define seconds (/ (- (current-jiffy) start) (jiffies-per-second)))
(display n) (display " calls in ") (display (/ (round (* seconds 100)) 100.)) (display " s: ")
(display (round (/ n seconds))) (display " calls/s") (newline)
