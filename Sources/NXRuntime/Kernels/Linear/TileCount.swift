/// A count fixed by a micro-kernel's type parameter (how many rows or vectors of its
/// register tile are live). Passed as an Int, LLVM merged the kernel's variants into one
/// function taking the count at run time, with a branch before every FMA; as a type, each
/// variant is specialized with its count folded.
protocol TileCount {
    static var value: Int { get }
}

enum TileCount1: TileCount { static var value: Int { 1 } }
enum TileCount2: TileCount { static var value: Int { 2 } }
enum TileCount3: TileCount { static var value: Int { 3 } }
enum TileCount4: TileCount { static var value: Int { 4 } }
enum TileCount5: TileCount { static var value: Int { 5 } }
enum TileCount6: TileCount { static var value: Int { 6 } }
enum TileCount7: TileCount { static var value: Int { 7 } }
enum TileCount8: TileCount { static var value: Int { 8 } }
