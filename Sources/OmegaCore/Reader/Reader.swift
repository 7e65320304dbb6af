/// Reads Scheme data from text, one datum at a time, recording each list's
/// source location in its pairs.
///
/// The reader is iterative (an explicit stack of open lists), so deeply
/// nested data cannot overflow the Swift stack.
package struct Reader {
    private let text: [Unicode.Scalar]
    private var pos = 0
    /// The line and column `position` is at.
    private(set) var line = 1
    private(set) var column = 1
    private let fileID: Int
    private unowned let interp: Interpreter
    /// Set by `#!fold-case`.
    private var foldCase = false

    package init(_ source: String, fileID: Int, interp: Interpreter) {
        text = Array(source.unicodeScalars)
        self.fileID = fileID
        self.interp = interp
    }

    /// A reader over a port's text from `position`, sharing its storage:
    /// `read` on a port costs what the datum costs, not the rest of the port.
    init(scalars: [Unicode.Scalar], position: Int, line: Int = 1, column: Int = 1, fileID: Int, interp: Interpreter) {
        text = scalars
        pos = position
        self.line = line
        self.column = column
        self.fileID = fileID
        self.interp = interp
    }

    /// Where the next datum starts (after `read`, for the port to go on from).
    var position: Int { pos }

    /// True when only whitespace and comments remain.
    mutating func atEnd() throws -> Bool {
        try skipAtmosphere()
        return pos >= text.count
    }

    private var here: SourceLocation { SourceLocation(file: fileID, line: line, column: column) }

    // MARK: Characters

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        pos + offset < text.count ? text[pos + offset] : nil
    }

    @discardableResult
    private mutating func advance() -> Unicode.Scalar? {
        guard pos < text.count else { return nil }
        let c = text[pos]
        pos += 1
        if c == "\n" { line += 1; column = 1 } else { column += 1 }
        return c
    }

    private func error(_ message: String, at loc: SourceLocation? = nil) -> SchemeError {
        SchemeError(.read, message, location: loc ?? here)
    }

    private static func isDelimiter(_ c: Unicode.Scalar?) -> Bool {
        guard let c = c else { return true }
        switch c {
        case "(", ")", "[", "]", "\"", ";", "|": return true
        default: return isWhitespace(c)
        }
    }

    /// Unicode whitespace, with ASCII decided without the property tables
    /// (their lookup was 6 % of start-up, where the library is read).
    @inline(__always) static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        if c.value < 0x80 { return c == " " || (c.value >= 9 && c.value <= 13) }
        return c.properties.isWhitespace
    }

    /// Skips whitespace, `;` comments and `#| |#` block comments.
    private mutating func skipAtmosphere() throws {
        while let c = peek() {
            if Reader.isWhitespace(c) {
                advance()
            } else if c == ";" {
                while let d = peek(), d != "\n" { _ = d; advance() }
            } else if c == "#" && peek(1) == "|" {
                let start = here
                advance(); advance()
                var depth = 1
                while depth > 0 {
                    guard let d = advance() else { throw error("unterminated #| comment", at: start) }
                    if d == "|" && peek() == "#" { advance(); depth -= 1 }
                    else if d == "#" && peek() == "|" { advance(); depth += 1 }
                }
            } else if c == "#" && peek(1) == "!" {
                // #!fold-case, #!no-fold-case, and a script's #! line.
                let start = pos
                advance(); advance()
                var word = ""
                while let d = peek(), !Reader.isDelimiter(d) { word.unicodeScalars.append(d); advance() }
                if word == "fold-case" { foldCase = true }
                else if word == "no-fold-case" { foldCase = false }
                else if start == 0 { while let d = peek(), d != "\n" { _ = d; advance() } }
                else { throw error("unknown directive #!\(word)") }
            } else {
                return
            }
        }
    }

    // MARK: Data

    private enum FrameKind { case list, vector, bytevector, prefix(Symbol), skip, label(Int) }

    private struct Frame {
        var kind: FrameKind
        var items: [Value] = []
        var location: SourceLocation
        var close: Unicode.Scalar = ")"
        /// After a `.` in a list: 0 none, 1 expecting the tail, 2 have it.
        var dotState = 0
        var tail: Value = .null
    }

    /// The next datum, or nil at the end of the text.
    package mutating func read() throws -> Value? {
        var frames: [Frame] = []
        // Datum labels (#n= and #n#) of this datum: finished values, and
        // placeholders for references made inside a label's own datum.
        var labels: [Int: Value] = [:]
        var placeholders: [Int: Value] = [:]
        while true {
            try skipAtmosphere()
            let start = here
            guard let c = peek() else {
                if let open = frames.last(where: { if case .list = $0.kind { return true }; if case .vector = $0.kind { return true }; return false }) {
                    throw error("unexpected end of input: missing ) for the list opened at line \(open.location.line), column \(open.location.column)", at: open.location)
                }
                if !frames.isEmpty { throw error("unexpected end of input after a quote or #;") }
                return nil
            }
            var value: Value
            switch c {
            case "(", "[":
                advance()
                frames.append(Frame(kind: .list, location: start, close: c == "(" ? ")" : "]"))
                continue
            case ")", "]":
                advance()
                guard let top = frames.popLast() else { throw error("unexpected \(c)", at: start) }
                switch top.kind {
                case .list:
                    if top.close != c { throw error("\(c) closes a list opened with \(top.close == ")" ? "(" : "[") at line \(top.location.line), column \(top.location.column)", at: start) }
                    if top.dotState == 1 { throw error("expected a datum after .", at: start) }
                    var list = top.tail
                    for v in top.items.reversed() {
                        list = interp.heap.locatedPair(v, list, location: top.location)
                    }
                    value = list
                case .vector:
                    value = Value(object: interp.heap.register(SchemeVector(top.items, mutable: false)))
                case .bytevector:
                    var bytes: [UInt8] = []
                    for v in top.items {
                        guard v.isFixnum, v.fixnum >= 0, v.fixnum <= 255 else {
                            throw error("bytevector elements must be integers 0 to 255", at: top.location)
                        }
                        bytes.append(UInt8(v.fixnum))
                    }
                    value = Value(object: interp.heap.register(Bytevector(bytes)))
                default:
                    throw error("unexpected \(c) after a quote or #;", at: start)
                }
            case "'", "`", ",":
                advance()
                var name = c == "'" ? "quote" : (c == "`" ? "quasiquote" : "unquote")
                if c == "," && peek() == "@" { advance(); name = "unquote-splicing" }
                frames.append(Frame(kind: .prefix(interp.symbols.intern(name)), location: start))
                continue
            case "\"":
                value = Value(object: interp.heap.register(SchemeString(try readString(), mutable: false)))
            case "|":
                value = Value(object: interp.symbols.intern(try readPipeSymbol()))
            case "#":
                if peek(1) == "(" {
                    advance(); advance()
                    frames.append(Frame(kind: .vector, location: start))
                    continue
                }
                if peek(1) == "u" && peek(2) == "8" && peek(3) == "(" {
                    for _ in 0..<4 { advance() }
                    frames.append(Frame(kind: .bytevector, location: start))
                    continue
                }
                if peek(1) == ";" {
                    advance(); advance()
                    frames.append(Frame(kind: .skip, location: start))
                    continue
                }
                if let d = peek(1), ("0"..."9").contains(d) {
                    // #n= labels the next datum; #n# refers to a labelled one.
                    advance()
                    var digits = ""
                    while let c = peek(), ("0"..."9").contains(c) { digits.unicodeScalars.append(c); advance() }
                    guard let n = Int(digits), let mark = advance(), mark == "=" || mark == "#" else {
                        throw error("bad datum label: expected #n= or #n#", at: start)
                    }
                    if mark == "=" {
                        frames.append(Frame(kind: .label(n), location: start))
                        continue
                    }
                    if let v = labels[n] {
                        value = v
                    } else if let p = placeholders[n] {
                        value = p
                    } else if frames.contains(where: { if case .label(n) = $0.kind { return true }; return false }) {
                        let p = Value(object: interp.symbols.gensym("datum-label"))
                        placeholders[n] = p
                        value = p
                    } else {
                        throw error("undefined datum label #\(n)#", at: start)
                    }
                } else if peek(1) == "\\" {
                    advance(); advance()
                    value = Value(char: try readCharacter(start))
                } else {
                    value = try readAtom(start)
                }
            default:
                if c == "." && Reader.isDelimiter(peek(1)) {
                    advance()
                    guard var top = frames.popLast(), case .list = top.kind, !top.items.isEmpty, top.dotState == 0 else {
                        throw error("unexpected . (a dot may only appear before the last element of a list)", at: start)
                    }
                    top.dotState = 1
                    frames.append(top)
                    continue
                }
                value = try readAtom(start)
            }
            // Deliver the datum to the innermost open frame.
            deliver: while true {
                guard var top = frames.popLast() else { return value }
                switch top.kind {
                case .prefix(let sym):
                    let inner = interp.heap.locatedPair(value, .null, location: top.location)
                    value = interp.heap.locatedPair(Value(object: sym), inner, location: top.location)
                    continue deliver
                case .skip:
                    break deliver
                case .label(let n):
                    if let p = placeholders.removeValue(forKey: n) { Reader.patch(value, placeholder: p, with: value) }
                    labels[n] = value
                    continue deliver
                case .list:
                    switch top.dotState {
                    case 0: top.items.append(value)
                    case 1: top.tail = value; top.dotState = 2
                    default: throw error("expected ) after the datum following .", at: start)
                    }
                    frames.append(top)
                    break deliver
                case .vector, .bytevector:
                    top.items.append(value)
                    frames.append(top)
                    break deliver
                }
            }
        }
    }

    /// Replaces a label's placeholder inside the labelled datum (making the
    /// circular structure `#0=(a . #0#)` denotes).
    private static func patch(_ root: Value, placeholder: Value, with value: Value) {
        var seen = Set<UInt64>()
        var work = [root]
        while let v = work.popLast() {
            guard seen.insert(v.raw).inserted else { continue }
            if v.isPair {
                let p = v.pair
                if p.car.raw == placeholder.raw { p.car = value } else { work.append(p.car) }
                if p.cdr.raw == placeholder.raw { p.cdr = value } else { work.append(p.cdr) }
            } else if let vec = v.as(SchemeVector.self) {
                for i in vec.items.indices {
                    if vec.items[i].raw == placeholder.raw { vec.items[i] = value } else { work.append(vec.items[i]) }
                }
            }
        }
    }

    // MARK: Tokens

    private mutating func readString() throws -> [Unicode.Scalar] {
        let start = here
        advance()  // opening quote
        var out: [Unicode.Scalar] = []
        while true {
            guard let c = advance() else { throw error("unterminated string", at: start) }
            if c == "\"" { return out }
            if c != "\\" { out.append(c); continue }
            guard let e = advance() else { throw error("unterminated string", at: start) }
            switch e {
            case "a": out.append("\u{7}")
            case "b": out.append("\u{8}")
            case "t": out.append("\t")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "0": out.append("\u{0}")
            case "\"", "\\", "|": out.append(e)
            case "x", "X": out.append(try readHexEscape())
            default:
                if e == "\n" || Reader.isWhitespace(e) {
                    // Line continuation: \ <spaces> newline <spaces>
                    var sawNewline = e == "\n"
                    while let d = peek(), Reader.isWhitespace(d) {
                        if d == "\n" { if sawNewline { break }; sawNewline = true }
                        advance()
                    }
                    if !sawNewline { throw error("unknown string escape \\\(e)") }
                } else {
                    throw error("unknown string escape \\\(e)")
                }
            }
        }
    }

    /// The `HH;` of a `\xHH;` escape.
    private mutating func readHexEscape() throws -> Unicode.Scalar {
        var hex = ""
        while let d = peek(), d != ";" {
            guard d.properties.isASCIIHexDigit else { throw error("bad \\x escape: expected hex digits then ;") }
            hex.unicodeScalars.append(d)
            advance()
        }
        guard peek() == ";" else { throw error("bad \\x escape: missing ;") }
        advance()
        guard let v = UInt32(hex, radix: 16), let s = Unicode.Scalar(v) else {
            throw error("bad \\x escape: #x\(hex) is not a Unicode scalar value")
        }
        return s
    }

    private mutating func readPipeSymbol() throws -> String {
        let start = here
        advance()
        var s = String.UnicodeScalarView()
        while true {
            guard let c = advance() else { throw error("unterminated |symbol|", at: start) }
            if c == "|" { return String(s) }
            if c == "\\" {
                guard let e = advance() else { throw error("unterminated |symbol|", at: start) }
                switch e {
                case "x", "X": s.append(try readHexEscape())
                case "n": s.append("\n")
                case "t": s.append("\t")
                default: s.append(e)
                }
            } else {
                s.append(c)
            }
        }
    }

    private static let characterNames: [String: Unicode.Scalar] = [
        "alarm": "\u{7}", "backspace": "\u{8}", "delete": "\u{7F}", "escape": "\u{1B}",
        "newline": "\n", "null": "\u{0}", "return": "\r", "space": " ", "tab": "\t",
        "linefeed": "\n", "nul": "\u{0}", "altmode": "\u{1B}", "rubout": "\u{7F}",
    ]

    private mutating func readCharacter(_ start: SourceLocation) throws -> Unicode.Scalar {
        guard let first = advance() else { throw error("end of input in a character literal", at: start) }
        var name = String.UnicodeScalarView([first])
        while let c = peek(), !Reader.isDelimiter(c) { name.append(c); advance() }
        if name.count == 1 { return first }
        let word = String(name)
        if let c = Reader.characterNames[word] ?? Reader.characterNames[word.lowercased()] { return c }
        if first == "x" || first == "X", let v = UInt32(word.dropFirst(), radix: 16) {
            guard let s = Unicode.Scalar(v) else { throw error("#\\\(word) is not a Unicode scalar value", at: start) }
            return s
        }
        throw error("unknown character name #\\\(word)", at: start)
    }

    private mutating func readAtom(_ start: SourceLocation) throws -> Value {
        let begin = pos
        var ascii = true
        while let c = peek(), !Reader.isDelimiter(c) {
            if c.value >= 0x80 { ascii = false }
            advance()
        }
        let token: String
        if ascii {
            // Most atoms: numbers, parsed straight from the bytes, and names.
            let bytes = text[begin..<pos].map { UInt8(truncatingIfNeeded: $0.value) }
            if let f = bytes.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") || f == UInt8(ascii: ".") || (f >= 0x30 && f <= 0x39),
               let n = NumberSyntax.parseSimpleDecimal(bytes) {
                return interp.heap.number(n)
            }
            token = String(decoding: bytes, as: UTF8.self)
        } else {
            var s = String.UnicodeScalarView()
            s.append(contentsOf: text[begin..<pos])
            token = String(s)
        }
        if token.hasPrefix("#") {
            switch token {
            case "#t", "#true": return .true
            case "#f", "#false": return .false
            case "#!eof": return .eof
            case "#!default": return .defaultObject
            case "#!unspecified": return .unspecified
            default:
                if let n = NumberSyntax.parseComplex(token) { return interp.heap.number(n) }
                if NumberSyntax.isOversizedExact(token) {
                    throw error("exact number too large: \(token) (an exact literal may scale by at most 10^\(NumberSyntax.maxExactExponent))", at: start)
                }
                throw error("bad syntax \(token)", at: start)
            }
        }
        if let first = token.unicodeScalars.first,
           first == "+" || first == "-" || first == "." || ("0"..."9").contains(first),
           let n = NumberSyntax.parseComplex(token) {
            return interp.heap.number(n)
        }
        return Value(object: interp.symbols.intern(foldCase ? Reader.fold(token) : token))
    }
}

extension Reader {
    /// `#!fold-case` folds identifiers as `string-foldcase` does.
    static func fold(_ token: String) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: CaseMapping.fold(Array(token.unicodeScalars)))
        return String(v)
    }
}
