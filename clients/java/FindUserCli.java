// A Java caller, as the AddService's team would write one, built from our .proto with
// Debian's protoc and grpc-java. Prints "name phone sinceSeconds" or the status code.
import com.glarimy.ums.find.v1.FindServiceGrpc;
import com.glarimy.ums.find.v1.FindUserRequest;
import com.glarimy.ums.find.v1.UserRecord;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeUnit;

public final class FindUserCli {
  public static void main(String[] args) throws InterruptedException {
    ManagedChannel channel = ManagedChannelBuilder.forTarget(args[0]).usePlaintext().build();
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
