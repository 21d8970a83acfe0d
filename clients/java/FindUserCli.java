// A Java caller, as the AddService's team would write one, built from our .proto with
// Debian's protoc and grpc-java. Prints "name phone sinceSeconds" or the status code.
//
// The channel uses the published service config (clients/service-config.json, here as the
// Map grpc-java takes: numbers are Doubles): round_robin, retries on UNAVAILABLE with
// throttling, and client-side health checking on FindService's readiness. grpc-java checks
// health only with io.grpc:grpc-services on the classpath (its health-checking round_robin
// takes over from grpc-core's); without that jar it ignores healthCheckConfig.
//
// With FINDSVC_TOKEN_FILE set (a projected service-account token, or a token of findsvc's
// tokens file), every call sends "authorization: Bearer <the file's text>", read at each call,
// so a token the kubelet rotates is picked up without a restart.
import com.glarimy.ums.find.v1.FindServiceGrpc;
import com.glarimy.ums.find.v1.FindUserRequest;
import com.glarimy.ums.find.v1.UserRecord;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

public final class FindUserCli {
  static final String FIND_SERVICE = "glarimy.ums.find.v1.FindService";

  static final Map<String, ?> SERVICE_CONFIG = Map.of(
      "loadBalancingConfig", List.of(Map.of("round_robin", Map.of())),
      "healthCheckConfig", Map.of("serviceName", FIND_SERVICE),
      "methodConfig", List.of(Map.of(
          "name", List.of(Map.of("service", FIND_SERVICE)),
          "retryPolicy", Map.of(
              "maxAttempts", 3.0,
              "initialBackoff", "0.1s",
              "maxBackoff", "1s",
              "backoffMultiplier", 2.0,
              "retryableStatusCodes", List.of("UNAVAILABLE", "CANCELLED")))),
      "retryThrottling", Map.of("maxTokens", 100.0, "tokenRatio", 0.1));

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /** Sends the token in `tokenFile`, read again at every call. */
  static final class BearerFromFile implements ClientInterceptor {
    private final Path tokenFile;

    BearerFromFile(Path tokenFile) {
      this.tokenFile = tokenFile;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(
        MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<Q, R>(
          next.newCall(method, options)) {
        @Override
        public void start(Listener<R> listener, Metadata headers) {
          try {
            String token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
            headers.put(AUTHORIZATION, "Bearer " + token);
          } catch (IOException e) {
            throw new UncheckedIOException("cannot read the token file", e);
          }
          super.start(listener, headers);
        }
      };
    }
  }

  public static void main(String[] args) throws InterruptedException {
    List<ClientInterceptor> interceptors = new ArrayList<>();
    String tokenFile = System.getenv("FINDSVC_TOKEN_FILE");
    if (tokenFile != null) {
      interceptors.add(new BearerFromFile(Path.of(tokenFile)));
    }
    ManagedChannel channel = ManagedChannelBuilder.forTarget(args[0])
        .usePlaintext()
        .defaultServiceConfig(SERVICE_CONFIG)
        .enableRetry()
        .intercept(interceptors)
        .build();
    try {
      UserRecord user = FindServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .findUser(FindUserRequest.newBuilder().setName(args[1]).build());
      System.out.println(user.getName() + " " + user.getPhone() + " " + user.getSince().getSeconds());
    } catch (StatusRuntimeException e) {
      System.out.println(e.getStatus().getCode());
      if (System.getenv("DEBUG") != null) e.printStackTrace();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
