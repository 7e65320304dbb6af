;; Nested parallel-map: OUTER elements, each a parallel-map of INNER calls
;; at LATENCY seconds of simulated latency. Prints the most calls in flight
;; at once (a pass-through handler counts them) and the time.
;; Usage: omega bench/programs/parallel.scm [OUTER INNER LATENCY]
(define args (cdr (command-line)))
(define (arg i default) (if (> (length args) i) (string->number (list-ref args i)) default))
(define outer (arg 0 8))
(define inner (arg 1 2))
(define latency (arg 2 0.2))
(define in-flight 0)
(define peak 0)
(define start (current-jiffy))
(with-effect-handler #t
  (lambda (request next)
    (set! in-flight (+ in-flight 1))
    (set! peak (max peak in-flight))
    (let ((r (next))) (set! in-flight (- in-flight 1)) r))
  (lambda ()
    (parallel-map (lambda (i)
                    (parallel-map (lambda (j) (effect infer.op (list "q" i j) 'max-tokens 5 'simulate-latency latency))
                                  (iota inner) inner))
                  (iota outer) outer)))
(define seconds (/ (- (current-jiffy) start) (exact->inexact (jiffies-per-second))))
(display (string-append (number->string outer) " x " (number->string inner) " calls at "
                        (number->string latency) " s: at most " (number->string peak) " in flight, "
                        (number->string (/ (round (* seconds 1000)) 1000)) " s"))
(newline)
