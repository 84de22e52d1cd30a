// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "console-access",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "console-access", targets: ["console-access"]),
        .library(name: "ConsoleAccess", targets: ["ConsoleAccess"]),
        .library(name: "BatchEngine", targets: ["BatchEngine"]),
        .library(name: "AccessReview", targets: ["AccessReview"]),
        .library(name: "AWSQuery", targets: ["AWSQuery"]),
        .library(name: "CSVStream", targets: ["CSVStream"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // libcsv (Debian libcsv-dev), wrapped as a system library.
        .systemLibrary(
            name: "CLibCSV",
            providers: [.apt(["libcsv-dev"])]
        ),
        // Streaming CSV reader and writer over libcsv.
        .target(
            name: "CSVStream",
            dependencies: ["CLibCSV"]
        ),
        // A small AWS Query-protocol client: SigV4, credentials, endpoints, IAM and STS.
        .target(
            name: "AWSQuery",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // Only for the in-memory connection the fuzz target feeds (HTTPFuzzing).
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The console-access core: validation, enable, disable, outcomes.
        .target(
            name: "ConsoleAccess",
            dependencies: [
                "AWSQuery",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Rows to jobs to outcomes: input parsing, run setup, bounded concurrency, report, resume.
        .target(
            name: "BatchEngine",
            dependencies: [
                "ConsoleAccess",
                "CSVStream",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The access review: credential report and per-user review, inactivity, evidence pack,
        // emitted batch files. Runs through the engine's run setup and bounded concurrency.
        .target(
            name: "AccessReview",
            dependencies: [
                "BatchEngine",
                "ConsoleAccess",
                "CSVStream",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // The executable: argument parsing only.
        .executableTarget(
            name: "console-access",
            dependencies: [
                "ConsoleAccess",
                "BatchEngine",
                "AccessReview",
                "CSVStream",
                "AWSQuery",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Test helpers: moto discovery, a loopback HTTP responder, a recording/fault proxy.
        .target(
            name: "TestSupport",
            dependencies: [
                "AWSQuery",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport"
        ),
        // libFuzzer targets (`make fuzz`): each is also a plain executable that replays files.
        .target(name: "CFuzzDriver", path: "Fuzz/CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"], path: "Fuzz/FuzzSupport"),
        .executableTarget(name: "fuzz-xml", dependencies: ["AWSQuery", "FuzzSupport"], path: "Fuzz/fuzz-xml"),
        .executableTarget(name: "fuzz-config", dependencies: ["AWSQuery", "FuzzSupport"], path: "Fuzz/fuzz-config"),
        .executableTarget(name: "fuzz-http", dependencies: ["AWSQuery", "FuzzSupport"], path: "Fuzz/fuzz-http"),
        .executableTarget(name: "fuzz-csv", dependencies: ["CSVStream", "FuzzSupport"], path: "Fuzz/fuzz-csv"),
        .executableTarget(
            name: "fuzz-report", dependencies: ["AWSQuery", "FuzzSupport"], path: "Fuzz/fuzz-report"),
        .testTarget(name: "CSVStreamTests", dependencies: ["CSVStream", "TestSupport"]),
        // AWS's SigV4 test suite (Apache-2.0, with its LICENSE and NOTICE) is data read by the tests.
        .testTarget(
            name: "AWSQueryTests", dependencies: ["AWSQuery", "TestSupport"], exclude: ["aws-signing-test-suite"]),
        .testTarget(name: "ConsoleAccessTests", dependencies: ["ConsoleAccess", "TestSupport"]),
        .testTarget(name: "BatchEngineTests", dependencies: ["BatchEngine", "TestSupport"]),
        .testTarget(name: "AccessReviewTests", dependencies: ["AccessReview", "BatchEngine", "TestSupport"]),
        // The executable, run as a user would (it is built with the tests).
        .testTarget(name: "CLITests", dependencies: ["AWSQuery", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
