package pipeline.sql;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.spark.connect.proto.AddArtifactsRequest;
import org.apache.spark.connect.proto.AnalyzePlanRequest;
import org.apache.spark.connect.proto.ConfigRequest;
import org.apache.spark.connect.proto.ExecutePlanRequest;
import org.apache.spark.connect.proto.KeyValue;
import org.apache.spark.connect.proto.Read;
import org.sparkproject.connect.google_protos.rpc.Status;
import org.sparkproject.connect.grpc.ForwardingServerCall;
import org.sparkproject.connect.grpc.ForwardingServerCallListener;
import org.sparkproject.connect.grpc.Metadata;
import org.sparkproject.connect.grpc.ServerCall;
import org.sparkproject.connect.grpc.ServerCallHandler;
import org.sparkproject.connect.grpc.ServerInterceptor;
import org.sparkproject.connect.grpc.StatusRuntimeException;
import org.sparkproject.connect.grpc.protobuf.StatusProto;
import org.sparkproject.connect.protobuf.Descriptors.FieldDescriptor;
import org.sparkproject.connect.protobuf.Message;

/**
 * Spark Connect's part of the read-only guard (spark.connect.grpc.interceptor.classes), for what
 * never becomes a SQL plan or must be stopped before Spark turns it into one: artifact uploads
 * (jars, classes, Python files), settings outside the list, and plans that carry client code
 * (Spark would deserialize a Scala UDF while building the plan) or read files other than Delta
 * tables (a CSV or JSON read samples the file, a JDBC read connects, while the plan is built).
 * Everything else goes on to Spark, where ReadOnlyExtension checks the plan.
 */
public final class ConnectGuard implements ServerInterceptor {

  /** Messages of Spark Connect's protocol that carry code to run on the server. */
  private static final Set<String> CLIENT_CODE = Set.of(
      "CommonInlineUserDefinedFunction", "CommonInlineUserDefinedTableFunction",
      "CommonInlineUserDefinedDataSource", "PythonUDF", "ScalarScalaUDF", "JavaUDF", "PythonUDTF",
      "PythonDataSource", "MapPartitions", "GroupMap", "CoGroupMap", "ApplyInPandasWithState",
      "StreamingForeachFunction", "ExecuteExternalCommand", "MlCommand");

  /** Messages that write (a stream's sink, a checkpoint), which no SQL plan check sees. */
  private static final Set<String> WRITES = Set.of("WriteStreamOperationStart", "CheckpointCommand");

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    // This interceptor runs before Spark's token check, which may have closed the call already.
    AtomicBoolean closed = new AtomicBoolean();
    ServerCall<Q, A> tracked = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(org.sparkproject.connect.grpc.Status status, Metadata trailers) {
        if (closed.compareAndSet(false, true)) {
          super.close(status, trailers);
        }
      }
    };
    ServerCall.Listener<Q> listener = next.startCall(tracked, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(Q message) {
        if (closed.get()) {
          return;
        }
        try {
          check(message);
        } catch (Refusal refusal) {
          // A google.rpc.Status in the trailers: the Python client shows its message as it is.
          StatusRuntimeException error = StatusProto.toStatusRuntimeException(Status.newBuilder()
              .setCode(org.sparkproject.connect.grpc.Status.Code.PERMISSION_DENIED.value())
              .setMessage(refusal.getMessage()).build());
          tracked.close(error.getStatus(), error.getTrailers());
          return;
        }
        super.onMessage(message);
      }

      @Override
      public void onHalfClose() {
        if (!closed.get()) {
          super.onHalfClose();
        }
      }
    };
  }

  private static void check(Object request) {
    if (request instanceof AddArtifactsRequest) {
      throw Refusal.clientCode("uploading artifacts (jars, classes, Python files)");
    } else if (request instanceof ConfigRequest config) {
      ConfigRequest.Operation operation = config.getOperation();
      List<String> keys = switch (operation.getOpTypeCase()) {
        case SET -> operation.getSet().getPairsList().stream().map(KeyValue::getKey).toList();
        case UNSET -> operation.getUnset().getKeysList();  // back to Spark's default, not the server's
        default -> List.of();
      };
      keys.stream().filter(key -> !Refusal.settable(key)).findFirst().ifPresent(key -> {
        throw Refusal.setting(key);
      });
    } else if (request instanceof ExecutePlanRequest || request instanceof AnalyzePlanRequest) {
      checkPlan((Message) request);
    }
  }

  /** Every message nested in a plan: protobuf's descriptors walk any message without knowing its type. */
  private static void checkPlan(Message message) {
    String type = message.getDescriptorForType().getName();
    if (CLIENT_CODE.contains(type)) {
      throw Refusal.clientCode(type);
    }
    if (WRITES.contains(type)) {
      throw Refusal.write(type);
    }
    if (message instanceof Read.DataSource source && !"delta".equalsIgnoreCase(source.getFormat())) {
      throw Refusal.notATable("reading " + (source.hasFormat() ? source.getFormat() : "files") + " "
          + String.join(", ", source.getPathsList()));
    }
    for (Map.Entry<FieldDescriptor, Object> field : message.getAllFields().entrySet()) {
      if (field.getValue() instanceof Message child) {
        checkPlan(child);
      } else if (field.getValue() instanceof List<?> values) {
        values.stream().filter(Message.class::isInstance).forEach(child -> checkPlan((Message) child));
      }
    }
  }
}
