/// Renders values as text: `write` form (re-readable) or `display` form.
struct Printer {
    let interp: Interpreter
    let display: Bool
    var out = ""
    /// The most UTF-8 bytes to produce. Shared structure prints once per
    /// path to it, so a small heap can print as an exponentially long text:
    /// past this, printing stops and `overflowed` is set.
    var limit = Int.max
    /// Printing stopped at `limit`; `out` is cut short.
    private(set) var overflowed = false
    /// Objects printed with datum labels (`#0=` … `#0#`): raw value → label
    /// number, or -1 until first printed.
    private var labels: [UInt64: Int] = [:]
    private var nextLabel = 0

    /// Which structure gets datum labels.
    enum Sharing {
        /// None (write-simple): circular data prints cut short with `...`.
        case none
        /// Only what makes the data circular (write, display).
        case cycles
        /// Every pair or vector reached more than once (write-shared).
        case all
    }

    /// Prints a value with datum labels as `sharing` asks.
    mutating func print(_ v: Value, sharing: Sharing) {
        if sharing != .none && (v.isPair || v.isObject(of: .vector)) {
            for raw in Printer.sharedObjects(v, cyclesOnly: sharing == .cycles) { labels[raw] = -1 }
        }
        print(v)
    }

    /// Pairs and vectors reached more than once (or, with `cyclesOnly`, from
    /// inside themselves), by an iterative depth-first walk.
    static func sharedObjects(_ root: Value, cyclesOnly: Bool) -> Set<UInt64> {
        enum State { case active, done }
        var state: [UInt64: State] = [:]
        var shared = Set<UInt64>()
        var stack: [(Value, Int)] = [(root, 0)]
        func children(_ v: Value) -> [Value] {
            if v.isPair { return [v.car, v.cdr] }
            if let vec = v.as(SchemeVector.self) { return vec.items }
            return []
        }
        state[root.raw] = .active
        while let (v, next) = stack.popLast() {
            let kids = children(v)
            if next >= kids.count {
                state[v.raw] = .done
                continue
            }
            stack.append((v, next + 1))
            let child = kids[next]
            guard child.isPair || child.isObject(of: .vector) else { continue }
            switch state[child.raw] {
            case .active?: shared.insert(child.raw)
            case .done?: if !cyclesOnly { shared.insert(child.raw) }
            case nil:
                state[child.raw] = .active
                stack.append((child, 0))
            }
        }
        return shared
    }

    /// Prints `#n#` for a labelled object already printed, or `#n=` before
    /// its first printing. Returns true when the object is done.
    private mutating func label(_ v: Value) -> Bool {
        guard let n = labels[v.raw] else { return false }
        if n >= 0 { out += "#\(n)#"; return true }
        labels[v.raw] = nextLabel
        out += "#\(nextLabel)="
        nextLabel += 1
        return false
    }
    /// Nesting beyond which sub-structures print as `...`, so that deep or
    /// circular data cannot exhaust the Swift stack.
    static let maxDepth = 10_000

    init(interp: Interpreter, display: Bool) {
        self.interp = interp
        self.display = display
    }

    mutating func print(_ v: Value, depth: Int = 0) {
        if out.utf8.count > limit { overflowed = true; return }
        if v.isFixnum { out += String(v.fixnum); return }
        if v.isChar { printChar(v.char); return }
        if v.isPair { printList(v, depth: depth); return }
        if v.isInWordFlonum, let z = Complex(v) { out += NumberSyntax.format(z); return }
        if !v.isHeapObject {
            switch v {
            case .null: out += "()"
            case .true: out += "#t"
            case .false: out += "#f"
            case .unspecified: out += "#!unspecified"
            case .eof: out += "#!eof"
            case .defaultObject: out += "#!default"
            case .undefined: out += "#!undefined"
            default: out += "#!unknown"
            }
            return
        }
        if depth > Printer.maxDepth || interp.stackGuard.isLow { out += "..."; return }
        let obj = v.withObject { $0 }
        switch obj.kind {
        case .symbol:
            let s = unsafeDowncast(obj, to: Symbol.self)
            if display { out += s.name } else { printSymbol(s) }
        case .string:
            let s = unsafeDowncast(obj, to: SchemeString.self)
            if display { out += s.scalars.string } else { printString(s.scalars) }
        case .bignum, .ratnum, .flonum, .compnum:
            if let z = Complex(v) { out += NumberSyntax.format(z) }
        case .vector:
            let vec = unsafeDowncast(obj, to: SchemeVector.self)
            if label(v) { return }
            out += "#("
            for (i, item) in vec.items.enumerated() {
                if i > 0 { out += " " }
                print(item, depth: depth + 1)
                if overflowed { return }
            }
            out += ")"
        case .bytevector:
            let b = unsafeDowncast(obj, to: Bytevector.self)
            out += "#u8(" + b.bytes.map { String($0) }.joined(separator: " ") + ")"
        case .closure:
            let c = unsafeDowncast(obj, to: Closure.self)
            out += c.template.name.isEmpty ? "#<procedure>" : "#<procedure \(c.template.name)>"
        case .primitive:
            out += "#<procedure \(unsafeDowncast(obj, to: Primitive.self).name)>"
        case .values:
            let mv = unsafeDowncast(obj, to: MultipleValues.self)
            for (i, item) in mv.items.enumerated() {
                if i > 0 { out += " " }
                print(item, depth: depth + 1)
            }
        default:
            if let custom = obj as? CustomPrintable {
                out += custom.printedForm(interp)
            } else {
                out += "#<\(obj.kind)>"
            }
        }
    }

    private mutating func printList(_ v: Value, depth: Int) {
        if depth > Printer.maxDepth || interp.stackGuard.isLow { out += "..."; return }
        if label(v) { return }
        // 'x `x ,x ,@x
        if let head = v.car.as(Symbol.self), v.cdr.isPair, v.cdr.cdr.isNull {
            let prefix: String?
            switch head.name {
            case "quote": prefix = "'"
            case "quasiquote": prefix = "`"
            case "unquote": prefix = ","
            case "unquote-splicing": prefix = ",@"
            default: prefix = nil
            }
            if let p = prefix {
                out += p
                print(v.cdr.car, depth: depth + 1)
                return
            }
        }
        out += "("
        var p = v
        var slow = v
        var count = 0
        while true {
            print(p.car, depth: depth + 1)
            if overflowed { return }
            p = p.cdr
            count += 1
            if count & 1 == 0 { slow = slow.cdr }
            if !p.isPair { break }
            if labels[p.raw] != nil { break }  // a labelled tail prints after " . "
            if p.raw == slow.raw {  // circular list
                out += " ..."
                out += ")"
                return
            }
            out += " "
        }
        if !p.isNull {
            out += " . "
            print(p, depth: depth + 1)
        }
        out += ")"
    }

    private mutating func printChar(_ c: Unicode.Scalar) {
        if display { out.unicodeScalars.append(c); return }
        switch c {
        case " ": out += "#\\space"
        case "\n": out += "#\\newline"
        case "\t": out += "#\\tab"
        case "\r": out += "#\\return"
        case "\u{0}": out += "#\\null"
        case "\u{7}": out += "#\\alarm"
        case "\u{8}": out += "#\\backspace"
        case "\u{7F}": out += "#\\delete"
        case "\u{1B}": out += "#\\escape"
        default:
            if c.value < 0x20 || !c.properties.isGraphemeBase && c.properties.generalCategory != .nonspacingMark {
                out += "#\\x" + String(c.value, radix: 16)
            } else {
                out += "#\\"
                out.unicodeScalars.append(c)
            }
        }
    }

    private mutating func printString(_ scalars: StringStorage) {
        out += "\""
        for c in scalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if c.value < 0x20 || c.value == 0x7F {
                    out += "\\x" + String(c.value, radix: 16) + ";"
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        out += "\""
    }

    private mutating func printSymbol(_ s: Symbol) {
        let name = s.name
        if Printer.needsBars(name) {
            out += "|"
            for c in name.unicodeScalars {
                if c == "|" || c == "\\" { out += "\\" }
                out.unicodeScalars.append(c)
            }
            out += "|"
        } else {
            out += name
        }
    }

    /// Whether a symbol name must be written between bars to read back as
    /// the same symbol: anything that is not an R7RS identifier as it
    /// stands (`|1|`, `|a b|`, `|\\123|`), anything that reads as a number
    /// (`|+i|`, `|-inf.0|`), and a sign followed by `nan.`/`inf.`
    /// (`|+NaN.0abc|`), which other readers take for the start of one.
    static func needsBars(_ name: String) -> Bool {
        let s = Array(name.unicodeScalars)
        guard let first = s.first else { return true }
        for c in s {
            if c.properties.isWhitespace { return true }
            switch c {
            case "(", ")", "[", "]", "{", "}", "\"", ";", "'", "`", ",", "|", "\\": return true
            default: break
            }
        }
        if NumberSyntax.parseComplex(name) != nil { return true }
        func isInitial(_ c: Unicode.Scalar) -> Bool {
            if c.value >= 0x80 { return true }
            if ("a"..."z").contains(c) || ("A"..."Z").contains(c) { return true }
            return "!$%&*/:<=>?^_~".unicodeScalars.contains(c)
        }
        func isSignSubsequent(_ c: Unicode.Scalar) -> Bool { isInitial(c) || c == "+" || c == "-" || c == "@" }
        func isDotSubsequent(_ c: Unicode.Scalar) -> Bool { isSignSubsequent(c) || c == "." }
        if isInitial(first) { return false }
        switch first {
        case "+", "-":
            if s.count == 1 { return false }
            let rest = String(String.UnicodeScalarView(s[1...])).lowercased()
            if rest.hasPrefix("nan.") || rest.hasPrefix("inf.") || rest == "i" { return true }
            if isSignSubsequent(s[1]) { return false }
            return !(s[1] == "." && s.count > 2 && isDotSubsequent(s[2]))
        case ".":
            return !(s.count > 1 && isDotSubsequent(s[1]))
        default:
            return true  // a digit, #, @ …
        }
    }
}

/// Heap objects defined by libraries print themselves through this.
protocol CustomPrintable {
    func printedForm(_ interp: Interpreter) -> String
}
