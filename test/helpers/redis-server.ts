// The throwaway redis-server lives with the scripts (bench:batch starts one too).
export { hasRedisServer, startRedis, type RedisServer } from '../../scripts/lib/redis-server.js';
