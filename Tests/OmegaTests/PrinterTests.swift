import Testing
@testable import OmegaCore
@testable import OmegaModels

@Suite struct PrinterTests {
    let h = try! Harness()

    @Test func writeAndDisplay() throws {
        #expect(try h.eval(#"(list 1 "two" #\3 'four 5.5)"#) == #"(1 "two" #\3 four 5.5)"#)
        let v = try h.interp.evaluate(#"(list 1 "two" #\3)"#)
        #expect(h.interp.displayString(v) == "(1 two 3)")
    }

    @Test func flonumsPrintShortestRoundTrip() throws {
        #expect(try h.eval("0.1") == "0.1")
        #expect(try h.eval("(+ 0.1 0.2)") == "0.30000000000000004")
        #expect(try h.eval("1e21") == "1e21")
        #expect(try h.eval("(/ 1. 3)") == "0.3333333333333333")
        #expect(try h.eval("100.0") == "100.0")
        #expect(try h.eval("(- (/ 0. 0.))") == "+nan.0")
    }

    @Test func specialValues() throws {
        #expect(try h.eval("(if #f #f)") == "#!unspecified")
        #expect(try h.eval("car") == "#<procedure car>")
        #expect(try h.eval("(define (f) 1) f") == "#<procedure f>")
        #expect(try h.eval("(vector)") == "#()")
        #expect(try h.eval("'|a b|") == "|a b|")
        #expect(try h.eval("(string->symbol \"42\")") == "|42|")
    }

    @Test func circularDataPrintsWithDatumLabels() throws {
        #expect(try h.eval("(define l (list 1 2 3)) (set-cdr! (cddr l) l) l") == "#0=(1 2 3 . #0#)")
        #expect(try h.eval("(define v (vector 1 2)) (vector-set! v 0 v) v") == "#0=#(#0# 2)")
        // Shared but not circular: write leaves it alone, write-shared labels it.
        #expect(try h.eval("(define x (list 1)) (list x x)") == "((1) (1))")
        #expect(try h.eval("(call-with-output-string (lambda (p) (write-shared (list x x) p)))") == "\"(#0=(1) #0#)\"")
        // write-simple does not label; circular data is cut short instead of looping.
        let simple = try h.eval("(call-with-output-string (lambda (p) (write-simple l p)))")
        #expect(simple.contains("..."))
    }

    @Test func deepNestingIsCut() throws {
        let s = try h.eval("(let loop ((i 0) (x '())) (if (= i 20000) x (loop (+ i 1) (list x))))")
        #expect(s.contains("..."))
    }
}
