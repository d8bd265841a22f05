// detail::send against real servers: TLS below 1.2 is refused in the handshake (BCP 195,
// RFC 9700 §2.6 "TLS ... MUST be used"), against a real `openssl s_server` that offers only
// TLS 1.1. Skipped, saying so, where the openssl program is missing.
#include "http_client.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "test_support.hpp"

extern char** environ;

namespace stagepass::sdk::detail {
namespace {

using namespace std::chrono_literals;

// Runs a program until destroyed (SIGTERM to its pid, then reaped).
class Child {
 public:
  explicit Child(std::vector<std::string> argv) {
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid_, raw[0], &actions, nullptr, raw.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

unsigned short free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address_v4("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

bool accepts(unsigned short port) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s(ioc);
  boost::system::error_code ec;
  s.connect({boost::asio::ip::make_address_v4("127.0.0.1"), port}, ec);
  return !ec;
}

bool run(const std::string& command) { return std::system(command.c_str()) == 0; }

TEST(HttpClient, RefusesTlsOlderThan1_2InTheHandshake) {
  if (!run("command -v openssl >/dev/null 2>&1")) GTEST_SKIP() << "no openssl program";
  testing::TempDir dir;
  const std::string key = (dir.path() / "k.pem").string(), cert = (dir.path() / "c.pem").string();
  ASSERT_TRUE(
      run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
          "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 1 -keyout " +
          key + " -out " + cert + " >/dev/null 2>&1"));
  const unsigned short port = free_port();
  Child server({"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert",
                cert, "-key", key, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", "-www"});
  ASSERT_TRUE(server.started());
  for (int i = 0; i < 100 && !accepts(port); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(accepts(port));

  // The certificate is not trusted either; what matters is which check fails first. With
  // TLS 1.2 as the floor, the handshake fails at the version, before any certificate.
  auto r = send({"GET", "https://127.0.0.1:" + std::to_string(port) + "/", {}, {}, 5000ms});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::network);
  EXPECT_NE(r.error().message.find("SSL connect error"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("certificate"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace stagepass::sdk::detail
