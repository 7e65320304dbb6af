import Testing
@testable import OmegaCore

/// Pairs in slabs of 16-byte cells (issue 18): what a list costs, that live
/// pairs survive collections among dead ones, and that dead cells are reused.
@Suite struct PairSlabTests {
    @Test func aMillionElementListCostsSixteenBytesAPair() throws {
        let omega = try Interpreter()
        _ = try omega.evaluate("(define big (make-list 1000000 7))")
        omega.collectGarbage()
        let slabBytes = omega.heap.pairSlabCount * PairSlabs.slabSize
        #expect(slabBytes >= 16_000_000, "\(slabBytes) bytes of slabs")
        #expect(slabBytes <= 17_000_000 + 4 * PairSlabs.slabSize, "\(slabBytes) bytes of slabs")
        #expect(omega.heap.liveBytes >= 16_000_000 && omega.heap.liveBytes < 20_000_000, "\(omega.heap.liveBytes)")
        #expect(omega.int(try omega.evaluate("(length big)")) == 1_000_000)
    }

    @Test func livePairsSurviveCollectionsAmongDeadOnes() throws {
        let omega = try Interpreter()
        // Every third pair is kept; the others die, so kept pairs sit in
        // slabs among free cells that later pairs reuse.
        let result = try omega.evaluate("""
            (define (build n keep)
              (if (= n 0) keep
                  (begin (list n n) (build (- n 1) (cons (cons n (* n n)) keep)))))
            (define kept (build 300000 '()))
            (define (churn n) (if (> n 0) (begin (cons n n) (churn (- n 1)))))
            (churn 2000000)
            (let loop ((l kept) (i 1) (ok #t))
              (if (null? l) (and ok (= i 300001))
                  (loop (cdr l) (+ i 1) (and ok (= (caar l) i) (= (cdar l) (* i i))))))
            """)
        #expect(result.isTrue)
        #expect(omega.heap.collections > 2)
    }

    @Test func deadCellsAreReusedNotAddedTo() throws {
        let omega = try Interpreter()
        _ = try omega.evaluate("(define (churn n) (if (> n 0) (begin (cons n n) (churn (- n 1)))))")
        _ = try omega.evaluate("(churn 3000000)")
        omega.collectGarbage()
        let slabs = omega.heap.pairSlabCount
        _ = try omega.evaluate("(churn 3000000)")
        omega.collectGarbage()
        // 3,000,000 pairs are 48 MB; the slabs hold what one collection's allocation needs.
        #expect(omega.heap.pairSlabCount <= slabs + 2, "\(slabs) then \(omega.heap.pairSlabCount) slabs")
        #expect(omega.heap.pairSlabCount * PairSlabs.slabSize < 24 << 20)
    }

    @Test func programTextKeepsItsLocationThroughCollections() throws {
        let omega = try Interpreter()
        var reader = Reader("\n  (a (b c))", fileID: omega.sourceFiles.id(for: "t.scm"), interp: omega)
        let form = try #require(try reader.read())
        let handle = omega.retain(form)
        _ = try omega.evaluate("(define (churn n) (if (> n 0) (begin (cons n n) (churn (- n 1)))))(churn 1000000)")
        omega.collectGarbage()
        let kept = handle.value
        #expect(kept.pair.location.line == 2 && kept.pair.location.column == 3)
        #expect(kept.cdr.car.pair.location.column == 6)
        #expect(omega.heap.pair(.null, .null).pair.location == .none)
    }
}
