/// The characters of a Scheme string, indexed in O(1): one byte each while
/// every character is ASCII, four (a `Unicode.Scalar`) once one is not.
///
/// Most strings programs make are ASCII, and at four bytes a character
/// they cost four times the memory and four times the copying
/// (`string-append`, `substring`) they need (issue 18). A string widens
/// once, when a non-ASCII character is first stored in it, and never
/// narrows back (a later `string-set!` of ASCII would have to scan it).
struct StringStorage: RandomAccessCollection, MutableCollection, RangeReplaceableCollection, Hashable {
    /// The characters while the string is ASCII (`wide` is empty).
    private(set) var ascii: [UInt8]
    /// The characters once one is not ASCII (`ascii` is empty).
    private var wide: [Unicode.Scalar]
    /// Which of the two holds the characters.
    private(set) var isWide: Bool

    init() {
        ascii = []
        wide = []
        isWide = false
    }

    /// The characters of `scalars`, narrow when they are all ASCII.
    init(_ scalars: [Unicode.Scalar]) {
        if scalars.allSatisfy({ $0.value < 0x80 }) {
            ascii = scalars.map { UInt8(truncatingIfNeeded: $0.value) }
            wide = []
            isWide = false
        } else {
            ascii = []
            wide = scalars
            isWide = true
        }
    }

    /// The characters of a Swift string.
    init(_ s: String) {
        var s = s
        // The string's UTF-8 is its ASCII when every byte is below 0x80.
        let bytes: [UInt8]? = s.withUTF8 { utf8 in
            utf8.allSatisfy { $0 < 0x80 } ? Array(utf8) : nil
        }
        if let bytes {
            ascii = bytes
            wide = []
            isWide = false
        } else {
            ascii = []
            wide = Array(s.unicodeScalars)
            isWide = true
        }
    }

    /// ASCII bytes as they are.
    init(ascii bytes: [UInt8]) {
        ascii = bytes
        wide = []
        isWide = false
    }

    var startIndex: Int { 0 }
    var endIndex: Int { isWide ? wide.count : ascii.count }
    var count: Int { isWide ? wide.count : ascii.count }

    subscript(i: Int) -> Unicode.Scalar {
        get {
            if isWide { return wide[i] }
            return Unicode.Scalar(ascii[i])
        }
        set {
            if isWide {
                wide[i] = newValue
            } else if newValue.value < 0x80 {
                ascii[i] = UInt8(truncatingIfNeeded: newValue.value)
            } else {
                widen()
                wide[i] = newValue
            }
        }
    }

    /// Moves the characters to four bytes each.
    private mutating func widen() {
        guard !isWide else { return }
        wide = ascii.map { Unicode.Scalar($0) }
        ascii = []
        isWide = true
    }

    mutating func replaceSubrange<C: Collection>(_ range: Range<Int>, with new: C) where C.Element == Unicode.Scalar {
        if let other = new as? StringStorage {
            replaceSubrange(range, with: other)
            return
        }
        if !isWide && new.allSatisfy({ $0.value < 0x80 }) {
            ascii.replaceSubrange(range, with: new.lazy.map { UInt8(truncatingIfNeeded: $0.value) })
        } else {
            widen()
            wide.replaceSubrange(range, with: new)
        }
    }

    /// Replaces with another storage's characters, byte for byte when both
    /// are ASCII.
    mutating func replaceSubrange(_ range: Range<Int>, with other: StringStorage) {
        if !isWide && !other.isWide {
            ascii.replaceSubrange(range, with: other.ascii)
        } else if isWide && other.isWide {
            wide.replaceSubrange(range, with: other.wide)
        } else {
            widen()
            wide.replaceSubrange(range, with: other.lazy.map { $0 })
        }
    }

    mutating func append(contentsOf other: StringStorage) {
        replaceSubrange(endIndex..<endIndex, with: other)
    }

    mutating func reserveCapacity(_ n: Int) {
        if isWide { wide.reserveCapacity(n) } else { ascii.reserveCapacity(n) }
    }

    /// The characters in `range`, as a storage of their own.
    func sub(_ range: Range<Int>) -> StringStorage {
        if isWide { return StringStorage(Array(wide[range])) }
        return StringStorage(ascii: Array(ascii[range]))
    }

    /// The characters as scalars.
    var scalarArray: [Unicode.Scalar] { isWide ? wide : ascii.map { Unicode.Scalar($0) } }

    /// The characters as a Swift string.
    var string: String {
        if !isWide { return String(decoding: ascii, as: UTF8.self) }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: wide)
        return String(view)
    }

    /// Bytes of memory the characters take.
    var byteCount: Int { isWide ? wide.count * 4 : ascii.count }

    static func == (x: StringStorage, y: StringStorage) -> Bool {
        if !x.isWide && !y.isWide { return x.ascii == y.ascii }
        return x.count == y.count && x.elementsEqual(y)
    }

    func hash(into h: inout Hasher) {
        h.combine(count)
        for c in self { h.combine(c.value) }
    }
}
