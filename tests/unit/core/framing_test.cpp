// Stream framing: 4-byte big-endian length + 1..kMaxFrameSize payload
// (plugin/src/core/framing.cpp).
#include "homep2p/framing.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace homep2p {
namespace {

Bytes bytes_of(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

Bytes payload_of_size(std::size_t n, std::uint8_t seed = 1) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(seed + i * 7);
  return out;
}

// Pops every complete frame; fails the test on an error.
std::vector<Bytes> drain(FrameReader& reader) {
  std::vector<Bytes> out;
  for (;;) {
    auto r = reader.pop();
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (!r.ok() || !r->has_value()) return out;
    out.push_back(std::move(**r));
  }
}

TEST(Framing, HeaderIsFourByteBigEndianLength) {
  const Bytes frame = make_frame(bytes_of("hello"));
  ASSERT_EQ(frame.size(), 9u);
  EXPECT_EQ(frame[0], 0);
  EXPECT_EQ(frame[1], 0);
  EXPECT_EQ(frame[2], 0);
  EXPECT_EQ(frame[3], 5);
  EXPECT_EQ(Bytes(frame.begin() + 4, frame.end()), bytes_of("hello"));

  const Bytes mid = make_frame(payload_of_size(0xabcd));
  EXPECT_EQ(Bytes(mid.begin(), mid.begin() + 4), (Bytes{0x00, 0x00, 0xab, 0xcd}));
  const Bytes max = make_frame(payload_of_size(kMaxFrameSize));
  EXPECT_EQ(Bytes(max.begin(), max.begin() + 4), (Bytes{0x00, 0x01, 0x00, 0x00}));
  EXPECT_EQ(max.size(), kFrameHeaderSize + kMaxFrameSize);
}

TEST(Framing, AppendFrameKeepsWhatWasAlreadyInTheBuffer) {
  Bytes out = bytes_of("xy");
  append_frame(out, bytes_of("a"));
  append_frame(out, bytes_of("bc"));
  EXPECT_EQ(out, (Bytes{'x', 'y', 0, 0, 0, 1, 'a', 0, 0, 0, 2, 'b', 'c'}));
}

TEST(Framing, OneFrameInOnePushIsReturnedOnce) {
  FrameReader reader;
  reader.push(make_frame(bytes_of("ping")));
  auto first = reader.pop();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ(**first, bytes_of("ping"));
  auto second = reader.pop();
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->has_value());
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(Framing, EmptyReaderAndPartialHeaderNeedMoreBytes) {
  FrameReader reader;
  auto r = reader.pop();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  reader.push(Bytes{0, 0, 0});
  r = reader.pop();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  EXPECT_EQ(reader.buffered(), 3u);
  reader.push(Bytes{2, 'o'});
  r = reader.pop();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  reader.push(Bytes{'k'});
  r = reader.pop();
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, bytes_of("ok"));
}

TEST(Framing, StreamSplitAtEveryBytePositionYieldsTheSameFrames) {
  const std::vector<Bytes> frames = {bytes_of("a"), bytes_of("hello world"), payload_of_size(300)};
  Bytes stream;
  for (const auto& f : frames) append_frame(stream, f);

  for (std::size_t split = 0; split <= stream.size(); ++split) {
    FrameReader reader;
    std::vector<Bytes> got;
    reader.push(std::span(stream).first(split));
    for (auto& f : drain(reader)) got.push_back(std::move(f));
    reader.push(std::span(stream).subspan(split));
    for (auto& f : drain(reader)) got.push_back(std::move(f));
    EXPECT_EQ(got, frames) << "split at " << split;
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(Framing, BytesArrivingOneAtATimeYieldEveryFrame) {
  const std::vector<Bytes> frames = {bytes_of("first"), payload_of_size(1000, 3), bytes_of("z")};
  Bytes stream;
  for (const auto& f : frames) append_frame(stream, f);

  FrameReader reader;
  std::vector<Bytes> got;
  for (std::uint8_t b : stream) {
    reader.push(std::span(&b, 1));
    for (auto& f : drain(reader)) got.push_back(std::move(f));
  }
  EXPECT_EQ(got, frames);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(Framing, ManyFramesInOnePushArePoppedInOrder) {
  std::vector<Bytes> frames;
  Bytes stream;
  for (int i = 0; i < 500; ++i) {
    frames.push_back(bytes_of("frame " + std::to_string(i)));
    append_frame(stream, frames.back());
  }
  FrameReader reader;
  reader.push(stream);
  EXPECT_EQ(drain(reader), frames);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(Framing, LargestFrameIsAccepted) {
  const Bytes payload = payload_of_size(kMaxFrameSize);
  FrameReader reader;
  reader.push(make_frame(payload));
  auto r = reader.pop();
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, payload);
}

TEST(Framing, OversizedLengthIsRejectedBeforeAllocation) {
  FrameReader reader;
  // 65537: one byte over the limit.
  reader.push(Bytes{0x00, 0x01, 0x00, 0x01, 'x'});
  auto r = reader.pop();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::FrameTooLarge);
  EXPECT_NE(r.error().message.find("65537"), std::string::npos) << r.error().message;
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(Framing, HugeLengthHeaderIsNotBufferedEvenWithoutPop) {
  FrameReader reader;
  reader.push(Bytes{0xff, 0xff, 0xff, 0xff});
  // A peer that keeps sending after a 4 GiB header must not make the reader keep its bytes.
  const Bytes junk(100000, 0xab);
  for (int i = 0; i < 10; ++i) {
    reader.push(junk);
    EXPECT_EQ(reader.buffered(), 0u);
  }
  auto r = reader.pop();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::FrameTooLarge);
}

TEST(Framing, ZeroLengthFrameIsInvalid) {
  FrameReader reader;
  reader.push(Bytes{0, 0, 0, 0});
  auto r = reader.pop();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::InvalidFrame);
}

TEST(Framing, ErrorsAreStickyAndLaterFramesAreIgnored) {
  FrameReader reader;
  Bytes stream = make_frame(bytes_of("good"));
  stream.insert(stream.end(), {0, 0, 0, 0});  // zero-length frame after a good one
  append_frame(stream, bytes_of("after"));
  reader.push(stream);

  auto first = reader.pop();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ(**first, bytes_of("good"));

  auto bad = reader.pop();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::InvalidFrame);

  // The stream cannot be resynchronised: valid frames pushed later do not come out.
  reader.push(make_frame(bytes_of("valid")));
  for (int i = 0; i < 3; ++i) {
    auto again = reader.pop();
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, Errc::InvalidFrame);
    EXPECT_EQ(again.error().message, bad.error().message);
  }
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(Framing, OversizeErrorIsStickyToo) {
  FrameReader reader;
  reader.push(Bytes{0x7f, 0, 0, 0});
  ASSERT_FALSE(reader.pop().ok());
  reader.push(make_frame(bytes_of("valid")));
  auto r = reader.pop();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::FrameTooLarge);
}

TEST(Framing, BufferDoesNotGrowAsFramesAreConsumed) {
  // Push one and a half frames at a time and pop what is complete: the unconsumed remainder is
  // all that may stay buffered, however long the stream runs.
  const Bytes frame = make_frame(payload_of_size(1000));
  Bytes stream;
  for (int i = 0; i < 2000; ++i) stream.insert(stream.end(), frame.begin(), frame.end());

  FrameReader reader;
  const std::size_t chunk = frame.size() * 3 / 2;
  std::size_t frames = 0;
  std::size_t max_buffered = 0;
  for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
    const std::size_t n = std::min(chunk, stream.size() - pos);
    reader.push(std::span(stream).subspan(pos, n));
    frames += drain(reader).size();
    max_buffered = std::max(max_buffered, reader.buffered());
  }
  EXPECT_EQ(frames, 2000u);
  EXPECT_LT(max_buffered, frame.size());
  EXPECT_EQ(reader.buffered(), 0u);
}

}  // namespace
}  // namespace homep2p
