import Testing
@testable import OmegaCore
@testable import OmegaModels

@Suite struct ReaderTests {
    let h = try! Harness()

    func read(_ s: String) throws -> [Value] {
        var r = Reader(s, fileID: h.interp.sourceFiles.id(for: "t.scm"), interp: h.interp)
        var out: [Value] = []
        while let v = try r.read() { out.append(v) }
        return out
    }

    func readWritten(_ s: String) throws -> String {
        try read(s).map { h.interp.writeString($0) }.joined(separator: " ")
    }

    @Test func numbers() throws {
        #expect(try readWritten("42 -7 +5 1.5 -0.25 1e3 2.5e-3") == "42 -7 5 1.5 -0.25 1000.0 0.0025")
        #expect(try readWritten("+inf.0 -inf.0 +nan.0") == "+inf.0 -inf.0 +nan.0")
        #expect(try readWritten("1/2 4/2 #x1F #b101 #o17 #e1.5 #i3") == "1/2 2 31 5 15 3/2 3.0")
        // Past the fixnum range the reader makes bignums.
        #expect(try readWritten("4611686018427387904 -99999999999999999999999") == "4611686018427387904 -99999999999999999999999")
        #expect(try read("4611686018427387903")[0].isFixnum)
        #expect(try !read("4611686018427387904")[0].isFixnum)
    }

    @Test func stringsAndCharacters() throws {
        #expect(try readWritten(#""a\nb" "tab\there" "q\"uote" "\x3bb;""#) == #""a\nb" "tab\there" "q\"uote" "λ""#)
        #expect(try readWritten(#"#\a #\space #\newline #\x3bb #\tab #\("#) == #"#\a #\space #\newline #\λ #\tab #\("#)
        #expect(try readWritten("\"line one \\\n     continued\"") == "\"line one continued\"")
    }

    @Test func booleansSymbolsAndQuotes() throws {
        #expect(try readWritten("#t #f #true #false") == "#t #f #t #f")
        #expect(try readWritten("abc |hello world| ->x <=?") == "abc |hello world| ->x <=?")
        #expect(try readWritten("'a `(b ,c ,@d)") == "'a `(b ,c ,@d)")
        #expect(try readWritten("#(1 (2) \"x\") #u8(1 255)") == "#(1 (2) \"x\") #u8(1 255)")
        #expect(try readWritten("(a . b) (a b . c) [x y]") == "(a . b) (a b . c) (x y)")
    }

    @Test func comments() throws {
        #expect(try readWritten("; line\n1 #| block #| nested |# |# 2 #;(skipped datum) 3") == "1 2 3")
        #expect(try readWritten("(1 #;2 3)") == "(1 3)")
    }

    @Test func sourceLocations() throws {
        let v = try read("\n  (foo\n (bar))")[0]
        #expect(v.pair.location.line == 2)
        #expect(v.pair.location.column == 3)
        let inner = v.cdr.car
        #expect(inner.pair.location.line == 3)
        #expect(inner.pair.location.column == 2)
    }

    @Test func deepNestingDoesNotOverflow() throws {
        let depth = 200_000
        let text = String(repeating: "(", count: depth) + String(repeating: ")", count: depth)
        let v = try read(text)[0]
        var d = 0
        var p = v
        while p.isPair { d += 1; p = p.car }
        #expect(d == depth - 1)  // the innermost () is the empty list
    }

    @Test func errorsNameTheLocation() throws {
        #expect(throws: SchemeError.self) { try read("(1 2") }
        // Each must throw: a read that succeeds fails the test.
        let unclosed = #expect(throws: SchemeError.self) { try read("(a\n  b") }
        #expect(unclosed?.kind == .read)
        #expect(unclosed?.location.line == 1)
        #expect(unclosed?.message.contains("missing )") == true)
        let stray = #expect(throws: SchemeError.self) { try read("  )") }
        #expect(stray?.location.column == 3)
        #expect(throws: SchemeError.self) { try read("\"unterminated") }
        #expect(throws: SchemeError.self) { try read("#\\nosuchname") }
        #expect(throws: SchemeError.self) { try read("(. a)") }
        #expect(throws: SchemeError.self) { try read("\"\\q\"") }
    }
}
